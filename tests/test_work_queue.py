"""내 할 일: each role's home list, most urgent first, each row with its reason; the 보완 요청 mark."""

from __future__ import annotations

from datetime import timedelta

from auditflow import dates
from auditflow.extensions import db
from auditflow.reports.work_queue import work_queue
from auditflow.services import notifications
from auditflow.services import recommendations as ops
from tests.pages_helpers import client_for, text


def test_a_team_sees_returned_first_then_overdue_soon_unstarted_writing_waiting(make):
    today = dates.today()
    team, other = make.team("창의경영팀"), make.team("남의팀")
    auditor = make.user("audit")
    with notifications.quiet():
        items = {
            "waiting": make.recommendation(lead=team, state="reviewing"),
            "writing": make.recommendation(lead=team, state="in_progress"),
            "unstarted": make.recommendation(lead=team, state="received"),
            "soon": make.recommendation(lead=team, state="in_progress"),
            "late": make.recommendation(lead=team, state="in_progress"),
            "returned": make.recommendation(lead=team, state="reviewing"),
            "done": make.recommendation(lead=team, state="completed"),
            "theirs": make.recommendation(lead=other, state="in_progress"),
        }
        ops.set_due_date(items["soon"], auditor, today + timedelta(days=3))
        ops.set_due_date(items["late"], auditor, today - timedelta(days=245))
        ops.set_due_date(items["writing"], auditor, today + timedelta(days=40))
        ops.fire(items["returned"], "return_for_rework", auditor, reason="분기별 일정 추가 바람")
    db.session.commit()
    worker = make.user("department", team=team)

    queue = work_queue(worker, today)

    order = [next(name for name, item in items.items() if item.id == row.item.id)
             for row in queue.rows]
    assert order == ["returned", "late", "soon", "unstarted", "writing", "waiting"]
    reasons = {row.item.id: (row.reason.code, row.detail) for row in queue.rows}
    assert reasons[items["returned"].id] == ("returned", "분기별 일정 추가 바람")
    assert reasons[items["late"].id] == ("overdue", "D+245")
    assert reasons[items["soon"].id] == ("due_soon", "D-3")
    assert [item.id for item in queue.done] == [items["done"].id]


def test_the_audit_team_sees_the_oldest_submission_first(make):
    team = make.team()
    with notifications.quiet():
        first = make.recommendation(lead=team, state="reviewing")
        second = make.recommendation(lead=team, state="reviewing")
    db.session.commit()
    queue = work_queue(make.user("audit"))
    waiting = [row.item.id for row in queue.rows if row.reason.code == "waiting"]
    assert waiting == [first.id, second.id]
    assert all(row.detail.endswith("일째 대기") for row in queue.rows if row.reason.code == "waiting")


def test_the_liaison_sees_the_summary_and_what_would_change_it(app, make):
    team = make.team()
    audit = make.audit(year=2025)
    audit.reference_date = dates.today() + timedelta(days=20)
    with notifications.quiet():
        deciding = make.recommendation(audit=audit, lead=team, state="reviewing", text="결정 대기")
        due = make.recommendation(audit=audit, lead=team, state="in_progress", text="기준일 전 기한")
        ops.set_due_date(due, make.user("audit"), dates.today() + timedelta(days=10))
        later = make.recommendation(audit=audit, lead=team, state="in_progress", text="먼 기한")
        ops.set_due_date(later, make.user("audit"), dates.today() + timedelta(days=90))
    db.session.commit()
    queue = work_queue(make.user("liaison"))
    assert queue.summary is not None and queue.summary.total.total == 3
    assert {row.item.id for row in queue.rows} == {deciding.id, due.id}
    page = text(client_for(app, make.user("liaison")).get("/"))
    assert "다음 보고 전에 바뀔 수 있는 요구사항" in page and "결정 대기" in page
    assert "먼 기한" not in page.split("다음 보고 전에")[1]


def test_a_returned_item_is_marked_in_every_list_and_its_reason_heads_its_page(app, make):
    team = make.team()
    auditor = make.user("audit")
    with notifications.quiet():
        item = make.recommendation(lead=team, state="reviewing", text="보완 대상 항목")
        ops.fire(item, "return_for_rework", auditor, reason="증빙 원본을 올려 주세요")
    worker = make.user("department", team=team)
    client = client_for(app, worker)
    for path in ("/", "/recommendations?audit=", f"/recommendations/{item.id}"):
        assert "보완 요청" in text(client.get(path)), path
    page = text(client.get(f"/recommendations/{item.id}"))
    assert "증빙 원본을 올려 주세요" in page.split("의회 요구사항")[0]  # above everything else
    reader = client_for(app, make.user("liaison"))
    assert "보완 요청" in text(reader.get("/status/open"))

    # Handed in again, the mark and the notice are gone.
    db.session.refresh(item)
    ops.fire(item, "submit", worker)
    db.session.commit()
    page = text(client.get(f"/recommendations/{item.id}"))
    assert "증빙 원본을 올려 주세요" not in page.split("의회 요구사항")[0]
    assert "보완 요청" not in text(client.get("/recommendations?audit="))


def test_extension_requests_head_the_audit_teams_list_and_decisions_reach_the_team(make):
    from auditflow.services import extensions

    team = make.team()
    auditor = make.user("audit")
    with notifications.quiet():
        item = make.recommendation(lead=team, state="in_progress")
        ops.set_due_date(item, auditor, dates.today() + timedelta(days=20))
        waiting = make.recommendation(lead=team, state="reviewing")
    worker = make.user("department", team=team)
    request = extensions.request(item, worker, dates.today() + timedelta(days=90), "예산 일정")
    db.session.commit()

    rows = work_queue(auditor).rows
    assert (rows[0].item.id, rows[0].reason.code) == (item.id, "extension_requested")
    assert "예산 일정" in rows[0].detail
    assert waiting.id in [row.item.id for row in rows[1:]]

    extensions.decide(request, "approve_extension", auditor, reason="타당")
    db.session.commit()
    assert "extension_requested" not in [row.reason.code for row in work_queue(auditor).rows]
    team_rows = work_queue(worker).rows
    decided = [row for row in team_rows if row.reason.code == "extension_decided"]
    assert len(decided) == 1 and decided[0].detail.startswith("승인: ")
