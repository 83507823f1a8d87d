"""The report content model: the seed against section 5 of the work report, and "as of" a day."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Audit, Evidence, User
from auditflow.reports import memo
from auditflow.reports.content import build_report, to_text
from auditflow.reports.summary import summarize
from auditflow.services import recommendations as ops
from auditflow.vocabulary import Category, State
from tests.conftest import shared_material
from tests.sql_helpers import recorded
from tests.test_seed_document import PAGE_HEADER_LINES, SECTION5_START, norm

REFERENCE = date(2026, 1, 31)


def seed_audit() -> Audit:
    audit = db.session.scalar(db.select(Audit).filter_by(year=2025))
    assert audit is not None, "the seed's 2025 audit is missing"
    return audit


def section5_lines() -> list[str]:
    lines = shared_material().work_report.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip().startswith(SECTION5_START)]
    assert starts, "section 5 not found in the work report"
    return lines[starts[0]:]


def document_blocks(lines: list[str]) -> tuple[list[str], list[str]]:
    """(normalised lines before the first item, normalised text of each item).

    An item of the document starts where its left column starts: a line that begins
    with "ㅇ" in the first column (the right column's entries are indented). Headings
    and table headers repeated on each page belong to no item.
    """
    starts = [i for i, line in enumerate(lines) if line.startswith("ㅇ")]
    assert starts, "no item found in section 5"
    headings = PAGE_HEADER_LINES
    blocks = []
    for begin, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        kept = [norm(line) for line in lines[begin:end] if norm(line) and norm(line) not in headings]
        blocks.append("".join(kept))
    head = [norm(line) for line in lines[: starts[0]] if norm(line)]
    return head, blocks


def test_seed_report_matches_section5_item_by_item(seeded):
    report = build_report(seed_audit(), REFERENCE)
    head, blocks = document_blocks(section5_lines())
    assert len(report.items) == len(blocks)
    for item, block in zip(report.items, blocks, strict=True):
        assert norm(item.text()) == block, f"item {item.number} differs from section 5"


def test_seed_report_heading_and_overview_match_section5(seeded):
    report = build_report(seed_audit(), REFERENCE)
    head, _ = document_blocks(section5_lines())
    assert norm(report.title) in head[0]
    assert norm(report.organisation) in head
    assert norm("□ 총  괄") in head

    def no_dots(text: str) -> str:
        return re.sub("·+", "", norm(text))

    assert no_dots(report.items_line) in [no_dots(line) for line in head]
    assert report.reference_label == "'26.1.31. 기준"
    assert report.title == "2025 행정사무감사 처리결과"


def test_seed_sections_follow_the_document(seeded):
    report = build_report(seed_audit(), REFERENCE)
    lines = [norm(line) for line in section5_lines()]
    text = "".join(lines)
    previous = -1
    for section in report.sections:
        # The section heading, then its table header, then its items, in document order.
        heading = text.find(norm(section.heading), previous + 1)
        header = text.find(norm(section.left_header + section.right_header), heading)
        assert 0 <= heading < header, section.heading
        for item in section.items:
            position = text.find(norm(item.council_line))
            assert position > header, f"item {item.number} is not under {section.heading}"
        previous = header
    assert [s.category for s in report.sections] == list(Category)


def test_seed_summary_agrees_with_items(seeded):
    audit = seed_audit()
    report = build_report(audit, REFERENCE)
    summary = report.summary
    assert summary.as_of == REFERENCE
    assert summary.as_dict() == summarize(audit, REFERENCE).as_dict()
    # The 총괄 counts equal the items listed below them, per category and state.
    assert summary.total.total == report.total
    for row in summary.rows[1:]:
        listed = [item for item in report.items if item.category == row.category]
        assert row.total == len(listed)
        for state in State:
            assert row.counts[state] == sum(1 for item in listed if item.state == state)
    # Expected values of the work report's 총괄 table.
    assert (summary.total.total, summary.total.counts[State.COMPLETED],
            summary.total.counts[State.IN_PROGRESS]) == (12, 11, 1)
    per_category = {row.category: (row.total, row.counts[State.COMPLETED],
                                   row.counts[State.IN_PROGRESS]) for row in summary.rows[1:]}
    assert per_category == {Category.CORRECTIVE: (4, 4, 0), Category.SUGGESTION: (7, 6, 1),
                            Category.OTHER: (1, 1, 0)}
    assert "총 12건" in report.items_line
    assert report.table()[0] == ["구분", "계", "완료", "추진 중", "검토 중", "미반영"]


def test_seed_report_as_of_today_equals_current_values(seeded):
    audit = seed_audit()
    now = build_report(audit)
    then = build_report(audit, REFERENCE)
    assert now.as_of == dates.today()
    assert [item for item in now.items] == [item for item in then.items]
    assert to_text(now).split("\n", 3)[3] == to_text(then).split("\n", 3)[3]


def test_seed_teams_and_due_dates_from_history(seeded):
    report = build_report(seed_audit(), REFERENCE)
    first = report.items[0]
    assert first.lead_team == "AI동행팀"
    assert first.supporting_teams == ("동행플라자TF",)
    assert first.due_date == REFERENCE


def test_before_the_audit_was_received_the_report_is_empty(seeded):
    audit = seed_audit()
    report = build_report(audit, audit.received_on - timedelta(days=1))
    assert report.items == () and report.sections == ()
    assert report.summary.total.total == 0


# --- as of a day, on a small audit of our own -------------------------------------------------


@pytest.fixture
def story(make):
    """Three items registered 30 days ago; item A started 20 days ago; B edited 10 days ago."""
    today = dates.today()
    day = {n: today - timedelta(days=n) for n in (30, 20, 10)}
    audit = make.audit()
    auditor = make.user("audit")
    team_a, team_b, team_c = make.team(), make.team(), make.team()
    worker_a = make.user("department", team=team_a)
    worker_b = make.user("department", team=team_b)
    items = {}
    for number, (team, category) in enumerate(
        [(team_a, Category.CORRECTIVE), (team_b, Category.SUGGESTION), (team_a, Category.OTHER)], 1
    ):
        items[number] = ops.register(
            audit, number=number, category=category, council_text=f"{number}번 요구사항 원문",
            actor=auditor, lead_team=team, due_date=day[10], at=dates.at_local(day[30]),
        )
    a, b, _c = items[1], items[2], items[3]
    ops.fire(a, "start", worker_a, at=dates.at_local(day[20]))
    ops.fire(b, "start", worker_b, at=dates.at_local(day[20], 11))
    ops.edit_result(b, worker_b, action_details="ㅇ 첫 조치", future_plan="ㅇ 계획",
                    at=dates.at_local(day[20], 12))
    # Ten days ago: B's result, teams, due date and text change; B is submitted.
    ops.edit_result(b, worker_b, action_details="ㅇ 바뀐 조치\n  - 세부", future_plan=None,
                    at=dates.at_local(day[10]))
    ops.fire(b, "submit", worker_b, at=dates.at_local(day[10], 10))
    ops.assign(b, auditor, lead_team=team_c, supporting_teams=[team_a],
               at=dates.at_local(day[10], 11))
    ops.set_due_date(b, auditor, day[10] + timedelta(days=60), reason="연장",
                     at=dates.at_local(day[10], 12))
    ops.edit_text(b, auditor, council_text="2번 요구사항 수정", category=Category.CORRECTIVE,
                  at=dates.at_local(day[10], 13))
    db.session.commit()
    return audit, items, day, (team_a, team_b, team_c)


def _by_number(report):
    return {item.number: item for item in report.items}


def test_as_of_report_before_and_after_a_transition_differs_by_that_item(story):
    audit, items, day, _ = story
    before = build_report(audit, day[20] - timedelta(days=1))
    after = build_report(audit, day[20])
    assert before.total == after.total == 3
    changed = {n for n in _by_number(after) if _by_number(after)[n] != _by_number(before)[n]}
    # A started that day and B too (with its first result): exactly those items differ.
    assert changed == {1, 2}
    a_before, a_after = _by_number(before)[1], _by_number(after)[1]
    assert (a_before.state, a_after.state) == (State.RECEIVED, State.IN_PROGRESS)
    assert {k: v for k, v in vars(a_before).items() if k != "state"} == {
        k: v for k, v in vars(a_after).items() if k != "state"}
    diff = {state: after.summary.total.counts[state] - before.summary.total.counts[state]
            for state in State}
    assert diff[State.IN_PROGRESS] == 2 and diff[State.RECEIVED] == -2


def test_as_of_one_transition_changes_one_item_only(story):
    audit, items, _day, _ = story
    # Fire one more transition yesterday: reports of the day before and of yesterday differ by it.
    yesterday = dates.today() - timedelta(days=1)
    department = db.session.scalar(db.select(User).filter_by(team_id=items[1].lead_team_id))
    ops.edit_result(items[1], department, action_details="ㅇ 조치", future_plan=None,
                    at=dates.at_local(yesterday, 9))
    ops.fire(items[1], "submit", department, at=dates.at_local(yesterday, 10))
    db.session.commit()
    before = build_report(audit, yesterday - timedelta(days=1))
    after = build_report(audit, yesterday)
    b, a = _by_number(before), _by_number(after)
    assert [n for n in a if a[n] != b[n]] == [1]
    assert (b[1].state, a[1].state) == (State.IN_PROGRESS, State.REVIEWING)
    assert after.summary.total.counts[State.REVIEWING] - before.summary.total.counts[State.REVIEWING] == 1


def test_as_of_takes_every_field_as_it_stood(story):
    audit, items, day, (team_a, team_b, team_c) = story
    then = _by_number(build_report(audit, day[20]))[2]
    assert then.state == State.IN_PROGRESS
    assert then.council_text == "2번 요구사항 원문"
    assert then.category == Category.SUGGESTION
    assert (then.lead_team, then.supporting_teams) == (team_b.name, ())
    assert then.due_date == day[10]
    assert (then.action_details, then.future_plan) == ("ㅇ 첫 조치", "ㅇ 계획")

    now = _by_number(build_report(audit))[2]
    assert now.state == State.REVIEWING
    assert now.council_text == "2번 요구사항 수정"
    assert now.category == Category.CORRECTIVE
    assert (now.lead_team, now.supporting_teams) == (team_c.name, (team_a.name,))
    assert now.due_date == day[10] + timedelta(days=60)
    assert (now.action_details, now.future_plan) == ("ㅇ 바뀐 조치\n  - 세부", None)
    # Rebuilt from history for a past day, the values equal the current ones.
    assert _by_number(build_report(audit, dates.today() - timedelta(days=1)))[2] == now


def test_as_of_category_decides_the_section(story):
    audit, _items, day, _ = story
    then = build_report(audit, day[20])
    now = build_report(audit)
    assert [i.number for s in then.sections if s.category == Category.SUGGESTION for i in s.items] == [2]
    assert [i.number for s in now.sections if s.category == Category.CORRECTIVE for i in s.items] == [1, 2]
    assert Category.SUGGESTION not in [s.category for s in now.sections]


def test_items_registered_later_are_absent(story, make):
    audit, _items, day, _ = story
    auditor = make.user("audit")
    ops.register(audit, number=9, category=Category.OTHER, council_text="나중 요구사항",
                 actor=auditor, at=dates.at_local(day[10]))
    db.session.commit()
    assert 9 not in _by_number(build_report(audit, day[10] - timedelta(days=1)))
    assert _by_number(build_report(audit, day[10]))[9].state == State.RECEIVED


def _evidence(rec, uploader, uploaded, deleted=None, n=[0]):  # noqa: B006 (a counter)
    n[0] += 1
    return Evidence(recommendation=rec, original_name=f"증빙{n[0]}.pdf", version=1,
                    storage_key=f"{n[0]:032x}", size=1, sha256="0" * 64,
                    content_type="application/pdf", uploaded_by=uploader, uploaded_at=uploaded,
                    deleted_at=deleted, deleted_by_id=uploader.id if deleted else None)


def test_evidence_count_as_of(story):
    audit, items, day, _ = story
    uploader = db.session.scalar(db.select(User).filter_by(team_id=items[1].lead_team_id))
    db.session.add_all([
        _evidence(items[1], uploader, dates.at_local(day[20])),
        _evidence(items[1], uploader, dates.at_local(day[20]), deleted=dates.at_local(day[10])),
        _evidence(items[1], uploader, dates.at_local(day[10])),
    ])
    db.session.commit()
    assert _by_number(build_report(audit, day[20] - timedelta(days=1)))[1].evidence_count == 0
    assert _by_number(build_report(audit, day[20]))[1].evidence_count == 2
    assert _by_number(build_report(audit, day[10]))[1].evidence_count == 2  # one deleted, one new
    assert _by_number(build_report(audit))[1].evidence_count == 2
    assert _by_number(build_report(audit))[2].evidence_count == 0


def _count_queries(fn):
    with recorded() as statements:
        fn()
    return len(statements)


@pytest.mark.parametrize("as_of", ["past", "current"])
def test_queries_do_not_grow_with_the_items(make, as_of):
    auditor = make.user("audit")
    team = make.team()
    past = dates.today() - timedelta(days=3)

    def audit_with(n):
        audit = make.audit()
        for number in range(1, n + 1):
            rec = ops.register(audit, number=number, category=Category.SUGGESTION,
                               council_text=f"{number}번", actor=auditor, lead_team=team,
                               due_date=past, at=dates.at_local(past - timedelta(days=1)))
            db.session.add(_evidence(rec, auditor, dates.at_local(past - timedelta(days=1))))
        db.session.commit()
        return audit

    small, large = audit_with(2), audit_with(8)
    day = past if as_of == "past" else None
    db.session.expire_all()
    memo.forget()  # each report computed afresh: a kept answer would save the second some
    small_count = _count_queries(lambda: build_report(small, day))
    db.session.expire_all()
    memo.forget()
    large_count = _count_queries(lambda: build_report(large, day))
    assert small_count == large_count
    assert build_report(large, day).total == 8
