"""부서별 현황 (auditflow.reports.teams): the grouped counts equal plain counts over the items."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import OrgUnit, Recommendation
from auditflow.reports.summary import summarize
from auditflow.reports.teams import (
    OVERDUE_LABEL,
    SUPPORTING_LABEL,
    TOTAL_LABEL,
    UNASSIGNED_LABEL,
    team_status,
)
from auditflow.services import recommendations as ops
from auditflow.vocabulary import CLOSED, Category, State

STATES = ["received", "in_progress", "reviewing", "completed", "not_reflected"]


@pytest.fixture
def world(make):
    """Two audits, three teams and a task force, every state, some items overdue, some shared."""
    a, b, c = make.team("가팀"), make.team("나팀"), make.team("다팀")
    tf = make.team("라TF", kind="task_force")
    unused = make.team("마팀")  # leads and supports nothing: no row
    old, new = make.audit(2024), make.audit(2025)
    auditor = make.user("audit")
    today = dates.today()
    plan = [
        # audit, lead, supporting, state, due (days from today; None: no due date)
        (old, a, [], "in_progress", -200),
        (old, a, [b], "reviewing", -10),
        (old, b, [], "completed", -100),
        (old, c, [a, tf], "received", None),
        (old, tf, [], "not_reflected", -5),
        (new, a, [], "completed", 10),
        (new, a, [c], "in_progress", -1),
        (new, a, [], "in_progress", 0),  # due today: not overdue yet
        (new, b, [a], "received", 30),
        (new, b, [], "reviewing", -3),
        (new, c, [], "completed", -40),
        (new, tf, [b, c], "in_progress", 5),
        (new, None, [], "received", -2),  # nobody assigned yet
    ]
    items = []
    for number, (audit, lead, supporting, state, due) in enumerate(plan, start=1):
        if lead is None:
            item = ops.register(audit, number=number, category=Category.OTHER,
                                council_text="미지정 요구", actor=auditor)
        else:
            item = make.recommendation(audit=audit, lead=lead, supporting=supporting,
                                       state=state, number=number,
                                       category=list(Category)[number % 3])
        if due is not None:
            ops.set_due_date(item, auditor, today + timedelta(days=due), reason="테스트")
        items.append(item)
    db.session.commit()
    return {"teams": [a, b, c, tf], "unused": unused, "audits": (old, new), "items": items,
            "today": today}


def _expected(items, today, open_only=False):
    """Plain Python counts: the reference the grouped queries must match."""
    lead = Counter()
    overdue = Counter()
    supporting = Counter()
    for item in items:
        if open_only and item.state in {s.value for s in CLOSED}:
            continue
        lead[(item.lead_team_id, item.state)] += 1
        if item.due_date and item.due_date < today and item.state not in {s.value for s in CLOSED}:
            overdue[item.lead_team_id] += 1
        for team in item.supporting_teams:
            supporting[team.id] += 1
    return lead, overdue, supporting


def _check(status, items, today, open_only=False):
    lead, overdue, supporting = _expected(items, today, open_only)
    seen_teams = {team_id for team_id, _ in lead} | set(supporting)
    order = {team.id: team.sort_order for team in db.session.scalars(db.select(OrgUnit))}
    assert [row.team.id if row.team else None for row in status.rows] == sorted(
        seen_teams, key=lambda team_id: (team_id is None, order.get(team_id, 0)))
    for row in status.rows:
        team_id = row.team.id if row.team else None
        for state in State:
            assert row.counts[state] == lead[(team_id, state.value)], (row.label, state)
        assert row.overdue == overdue[team_id], row.label
        assert row.supporting == supporting[team_id], row.label
    assert status.total.total == sum(lead.values())
    assert status.total.overdue == sum(overdue.values())
    assert sum(row.total for row in status.rows) == status.total.total


def test_one_audit_counts_equal_plain_counts(world):
    old, new = world["audits"]
    for audit in (old, new):
        mine = [item for item in world["items"] if item.audit_id == audit.id]
        status = team_status(audit)
        _check(status, mine, world["today"])
        # The per-team total agrees with the summary engine's 계, state by state.
        summary = summarize(audit)
        assert status.total.counts == summary.total.counts


def test_all_open_items_across_audits(world):
    status = team_status(None)
    _check(status, world["items"], world["today"], open_only=True)
    assert status.total.counts[State.COMPLETED] == 0
    assert status.total.counts[State.NOT_REFLECTED] == 0
    assert State.COMPLETED not in status.columns
    # 5 open items with a due date before today (the one due today is not overdue).
    assert status.total.overdue == 5
    assert status.total.total == 9


def test_rows_are_teams_with_items_in_sort_order_and_unassigned_last(world):
    a, b, c, tf = world["teams"]
    status = team_status(world["audits"][1])
    assert [row.label for row in status.rows] == [a.name, b.name, c.name, tf.name,
                                                  UNASSIGNED_LABEL]
    assert world["unused"].name not in [row.label for row in status.rows]
    row_a = status.rows[0]
    # 가팀 leads 3 items of 2025 (1 completed, 2 in progress), one of them overdue,
    # and supports one (나팀's received item).
    assert row_a.total == 3
    assert row_a.counts[State.IN_PROGRESS] == 2
    assert row_a.overdue == 1
    assert row_a.supporting == 1


def test_table_has_numbers_and_the_columns_of_the_view(world):
    status = team_status(world["audits"][1])
    header, total, *rows = status.table()
    assert header[0] == "부서" and header[1] == TOTAL_LABEL
    assert header[-2:] == [OVERDUE_LABEL, SUPPORTING_LABEL]
    assert "접수" in header  # some item of 2025 is still received
    assert total[0] == TOTAL_LABEL and total[1] == 8
    assert all(isinstance(cell, int) for row in (total, *rows) for cell in row[1:])
    for column in range(1, len(header)):
        if header[column] == SUPPORTING_LABEL:
            continue
        assert total[column] == sum(row[column] for row in rows), header[column]


def test_department_and_reference_date_in_the_past_use_history(make):
    """Lead team, due date and state are taken as the history stood at the end of each day."""
    a, b = make.team("가팀"), make.team("나팀")
    audit = make.audit(2025)
    auditor = make.user("audit")
    worker_a = make.user("department", team=a)
    worker_b = make.user("department", team=b)

    def at(day):
        return dates.at_local(day, 10)

    item = ops.register(audit, number=1, category=Category.CORRECTIVE, council_text="요구",
                        actor=auditor, lead_team=a, due_date=date(2025, 12, 31),
                        at=at(date(2025, 11, 11)))
    ops.fire(item, "start", worker_a, at=at(date(2025, 11, 17)))
    ops.assign(item, auditor, lead_team=b, supporting_teams=[a], at=at(date(2026, 1, 5)))
    ops.set_due_date(item, auditor, date(2026, 2, 28), reason="연장", at=at(date(2026, 1, 5)))
    ops.edit_result(item, worker_b, action_details="ㅇ 조치", future_plan=None,
                    at=at(date(2026, 1, 10)))
    ops.fire(item, "submit", worker_b, at=at(date(2026, 1, 10)))
    ops.fire(item, "approve", auditor, reason="증빙 불필요", at=at(date(2026, 1, 20)))
    db.session.commit()

    def one_row(day):
        status = team_status(audit, day)
        assert status.as_of == day
        return [(row.label, {s: n for s, n in row.counts.items() if n}, row.overdue,
                 row.supporting) for row in status.rows]

    assert one_row(date(2025, 11, 10)) == []  # not registered yet
    assert one_row(date(2025, 11, 11)) == [("가팀", {State.RECEIVED: 1}, 0, 0)]
    assert one_row(date(2025, 12, 31)) == [("가팀", {State.IN_PROGRESS: 1}, 0, 0)]
    assert one_row(date(2026, 1, 2)) == [("가팀", {State.IN_PROGRESS: 1}, 1, 0)]
    # Reassigned to 나팀 with 가팀 supporting, and the due date moved: no longer overdue.
    assert one_row(date(2026, 1, 5)) == [("가팀", {}, 0, 1), ("나팀", {State.IN_PROGRESS: 1}, 0, 0)]
    assert one_row(date(2026, 1, 20)) == [("가팀", {}, 0, 1), ("나팀", {State.COMPLETED: 1}, 0, 0)]
    # Across audits the completed item is no longer open.
    assert team_status(None, date(2026, 1, 20)).total.total == 0
    assert team_status(None, date(2026, 1, 19)).total.counts[State.REVIEWING] == 1


def test_seed_per_team_view_agrees_with_the_report(seeded):
    from auditflow.models import Audit

    audit = db.session.scalar(db.select(Audit))
    as_of = audit.reference_date
    status = team_status(audit, as_of)
    assert status.total.total == 12
    assert status.total.counts[State.COMPLETED] == 11
    assert status.total.counts[State.IN_PROGRESS] == 1
    items = db.session.scalars(db.select(Recommendation)).all()
    leads = Counter(item.lead_team.name for item in items)
    supports = Counter(team.name for item in items for team in item.supporting_teams)
    assert {row.label: row.total for row in status.rows if row.total} == dict(leads)
    assert {row.label: row.supporting for row in status.rows if row.supporting} == dict(supports)
    # A team that only supports still has its row, with nothing counted as lead.
    assert {row.label for row in status.rows} == set(leads) | set(supports)
    assert status.total.counts == summarize(audit, as_of).total.counts
