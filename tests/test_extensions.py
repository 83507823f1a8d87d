"""기한 연장: requested by the team, decided by the audit team, every step in the item's history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from auditflow import dates
from auditflow.errors import DomainError
from auditflow.extensions import db
from auditflow.models import DueDateExtension, History, Notification
from auditflow.reports.due_dates import due_histories
from auditflow.services import extensions, notifications
from auditflow.services import recommendations as ops
from auditflow.vocabulary import HistoryKind, NotificationKind, RequestState
from auditflow.workflow import EXTENSION_TRANSITIONS, WorkflowError
from tests.pages_helpers import client_for, post, text

LATER = 60


@pytest.fixture
def world(make):
    lead, helper, other = make.team("주관팀"), make.team("협조팀"), make.team("다른팀")
    auditor = make.user("audit")
    with notifications.quiet():
        item = make.recommendation(lead=lead, supporting=[helper], state="in_progress")
        ops.set_due_date(item, auditor, dates.today() + timedelta(days=10))
    people = {
        "audit": auditor,
        "lead": make.user("department", team=lead),
        "helper": make.user("department", team=helper),
        "other": make.user("department", team=other),
        "liaison": make.user("liaison"),
        "admin": make.user("admin"),
        "nobody": None,
    }
    db.session.commit()
    return item, people


def ask(item, who, days=LATER, reason="예산 집행 일정 조정"):
    return extensions.request(item, who, dates.today() + timedelta(days=days), reason)


def test_asking_keeps_the_original_date_and_writes_history(world):
    item, people = world
    before = item.due_date
    request = ask(item, people["lead"])
    db.session.commit()
    assert request.state_enum is RequestState.PENDING
    assert request.previous_due == before and item.due_date == before  # nothing moved yet
    row = db.session.scalars(select(History).where(
        History.recommendation_id == item.id, History.kind == HistoryKind.EXTENSION.value)).one()
    assert (row.trigger, row.old_value, row.comment) == (
        "request_extension", before.isoformat(), "예산 집행 일정 조정")


@pytest.mark.parametrize(("who", "days", "reason", "code"), [
    ("other", LATER, "사유", "extension_forbidden"),
    ("audit", LATER, "사유", "extension_forbidden"),
    ("lead", LATER, "  ", "reason_required"),
    ("lead", 5, "사유", "due_date_not_later"),
    ("lead", -1, "사유", "due_date_not_later"),
])
def test_bad_requests_are_refused(world, who, days, reason, code):
    item, people = world
    with pytest.raises(DomainError) as refused:
        ask(item, people[who], days, reason)
    assert refused.value.code == code
    db.session.rollback()
    assert db.session.scalars(select(DueDateExtension)).all() == []


def test_one_request_waits_at_a_time(world):
    item, people = world
    ask(item, people["lead"])
    with pytest.raises(DomainError) as refused:
        ask(item, people["helper"], LATER + 10)
    assert refused.value.code == "extension_pending"


ALLOWED = {
    "approve_extension": {"audit"},
    "decline_extension": {"audit"},
    "withdraw_extension": {"lead", "helper"},
}


@pytest.mark.parametrize("who", ["audit", "lead", "helper", "other", "liaison", "admin", "nobody"])
@pytest.mark.parametrize("spec", EXTENSION_TRANSITIONS, ids=lambda spec: spec.trigger)
def test_every_decision_by_role_and_team(world, spec, who):
    item, people = world
    request = ask(item, people["lead"])
    db.session.commit()
    due_before = item.due_date
    if who in ALLOWED[spec.trigger]:
        extensions.decide(request, spec.trigger, people[who], reason="검토함")
        assert request.state_enum is spec.dest
        assert request.decided_by_id == people[who].id and request.decided_at is not None
        moved = spec.trigger == "approve_extension"
        assert item.due_date == (request.requested_due if moved else due_before)
    else:
        with pytest.raises(WorkflowError) as refused:
            extensions.decide(request, spec.trigger, people[who], reason="검토함")
        assert refused.value.status == 403
        db.session.rollback()
        assert db.session.get(DueDateExtension, request.id).state == "pending"


def test_a_decision_is_final_and_a_decline_needs_its_reason(world):
    item, people = world
    request = ask(item, people["lead"])
    with pytest.raises(WorkflowError) as refused:
        extensions.decide(request, "decline_extension", people["audit"], reason=" ")
    assert refused.value.code == "reason_required"
    extensions.decide(request, "decline_extension", people["audit"], reason="근거 부족")
    with pytest.raises(WorkflowError) as again:
        extensions.decide(request, "approve_extension", people["audit"])
    assert again.value.code == "invalid_state"
    # Declined, the team may ask again.
    assert ask(item, people["lead"], LATER + 5).state_enum is RequestState.PENDING


def test_an_approval_tells_the_teams_and_the_story_keeps_every_change(world):
    item, people = world
    original = item.due_date
    request = ask(item, people["lead"])
    extensions.decide(request, "approve_extension", people["audit"], reason="타당함")
    # The audit team may still move the date itself: that is a change too.
    ops.set_due_date(item, people["audit"], item.due_date + timedelta(days=30), reason="일정 재조정")
    db.session.commit()
    story = due_histories([item.id])[item.id]
    assert story.original == original and story.current == item.due_date
    assert [(c.requested, c.reason) for c in story.changes] == [
        (True, "예산 집행 일정 조정"), (False, "일정 재조정")]
    assert story.summary().startswith(f"기한 연장 2회: {dates.short(original)} → "
                                      f"{dates.short(item.due_date)} (직접 변경:")
    told = db.session.scalars(select(Notification).where(
        Notification.kind == NotificationKind.EXTENSION_DECIDED.value)).all()
    team_people = {user.id for user in notifications.team_users(item.team_ids)}
    assert {n.user_id for n in told} == team_people
    assert {people["lead"].id, people["helper"].id} <= team_people
    assert people["other"].id not in team_people
    assert "타당함" in told[0].body


def test_the_pages_ask_decide_and_show_the_story(app, world):
    item, people = world
    team = client_for(app, people["lead"])
    page = text(team.get(f"/recommendations/{item.id}"))
    assert "기한 연장 요청" in page
    later = (dates.today() + timedelta(days=LATER)).isoformat()
    asked = post(team, f"/recommendations/{item.id}/extensions",
                 {"requested_due": later, "reason": "예산 집행 일정 조정",
                  "version": str(item.version)}, follow=True)
    assert "기한 연장" in text(asked) and "을 요청했습니다" in text(asked)
    assert "결정 대기" in text(asked)
    db.session.expire_all()
    request = db.session.scalars(select(DueDateExtension)).one()

    audit = client_for(app, people["audit"])
    approved = post(audit, f"/recommendations/{item.id}/extensions/{request.id}/approve_extension",
                    {"reason": "타당함", "version": str(db.session.get(type(item), item.id).version)},
                    follow=True)
    page = text(approved)
    assert "'연장 승인' 처리했습니다" in page
    assert "기한 연장 1회:" in page and "요청 승인" in page
    db.session.expire_all()
    assert db.session.get(type(item), item.id).due_date.isoformat() == later
    # A stale screen is refused, nothing changes.
    stale = post(team, f"/recommendations/{item.id}/extensions",
                 {"requested_due": later, "reason": "다시", "version": "1"}, follow=True)
    assert "다른 사용자가 먼저 변경했습니다" in text(stale)
    assert len(db.session.scalars(select(DueDateExtension)).all()) == 1


def test_the_reports_carry_the_due_date_story(app, world):
    from io import BytesIO

    from openpyxl import load_workbook

    from auditflow.reports import html, xlsx
    from auditflow.reports.content import build_report

    item, people = world
    original = item.due_date
    request = ask(item, people["lead"])
    extensions.decide(request, "approve_extension", people["audit"], reason="타당함")
    db.session.commit()

    report = build_report(item.audit)
    [entry] = report.due_changes
    assert (entry.number, entry.story.original, entry.story.current, entry.story.count) == (
        item.number, original, request.requested_due, 1)
    sheet = load_workbook(BytesIO(xlsx.to_bytes(report)))["기한 변경"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 1
    number, _category, _text, first, now, count, _on, old, new, how, by, reason = rows[0]
    assert (number, first.date(), now.date(), count, old.date(), new.date(), how, reason) == (
        item.number, original, request.requested_due, 1, original, request.requested_due,
        "요청 승인", "예산 집행 일정 조정")
    assert people["audit"].name in by
    document = html.render(report)
    assert "기한 변경 내역" in document and "요청 승인" in document
    assert "기한 변경 내역" not in html.render(build_report(item.audit, include_due_changes=False))
    # The day before the approval there was nothing to tell.
    yesterday = dates.today() - timedelta(days=1)
    assert build_report(item.audit, yesterday).due_changes == ()


def test_the_summary_page_chooses_whether_the_printable_report_tells_it(app, world):
    item, people = world
    request = ask(item, people["lead"])
    extensions.decide(request, "approve_extension", people["audit"])
    db.session.commit()
    client = client_for(app, people["liaison"])
    page = text(client.get(f"/summary?audit={item.audit_id}"))
    assert "기한 변경 내역" in page  # on by default
    off = client.get(f"/summary?audit={item.audit_id}&chosen=1")
    assert "기한 변경 내역 처리 기한이 바뀐" not in text(off)
    assert "due_changes=0" in off.get_data(as_text=True)
    html_off = client.get(f"/summary/{item.audit_id}/report.html?due_changes=0").get_data(as_text=True)
    assert "기한 변경 내역" not in html_off
    assert "기한 변경 내역" in client.get(f"/summary/{item.audit_id}/report.html").get_data(as_text=True)
