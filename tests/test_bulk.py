"""일괄 처리 on the list page: one change and one reason for many items, each with its own
history and notice; an item changed by someone else meanwhile, or refused, is reported and
left alone while the rest succeed. CSRF on."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import select

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import History, Notification, Recommendation
from auditflow.services import evidence as evidence_ops
from auditflow.services import notifications
from auditflow.services import recommendations as ops
from auditflow.vocabulary import HistoryKind, NotificationKind
from tests.pages_helpers import client_for, text


def _token(client, path="/recommendations") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _fresh(item):
    db.session.expire_all()
    return db.session.get(Recommendation, item.id)


def test_the_list_offers_boxes_and_the_panel_only_to_the_audit_team(app, make):
    team = make.team()
    item = make.recommendation(lead=team)
    audit_html = client_for(app, make.user("audit")).get(
        f"/recommendations?audit={item.audit_id}").get_data(as_text=True)
    assert f'name="ids" value="{item.id}"' in audit_html and "고른 요구사항 일괄 처리" in audit_html
    assert f'name="v{item.id}" value="{item.version}"' in audit_html
    for who in (make.user("department", team=team), make.user("liaison")):
        html = client_for(app, who).get(f"/recommendations?audit={item.audit_id}").get_data(
            as_text=True)
        assert 'name="ids"' not in html and "일괄 처리" not in html


def test_a_due_date_for_several_with_one_stale_item_left_alone(app, make):
    team = make.team()
    auditor = make.user("audit")
    first, second, third = (make.recommendation(lead=team) for _ in range(3))
    db.session.commit()
    client = client_for(app, auditor)
    token = _token(client)
    shown = {item.id: item.version for item in (first, second, third)}
    # Someone else changes the third after the list was shown.
    ops.set_due_date(third, auditor, dates.today() + timedelta(days=5))
    db.session.commit()
    due = (dates.today() + timedelta(days=40)).isoformat()
    response = client.post(f"/recommendations/bulk?audit={first.audit_id}", data={
        "csrf_token": token, "ids": [str(i) for i in shown], **{f"v{i}": str(v) for i, v in shown.items()},
        "action": "due_date", "due_date": due, "reason": "일괄 지정", "confirm": "y"},
        follow_redirects=True)
    page = text(response)
    assert f"2건을 '처리 기한 지정' 처리했습니다: {first.number}번, {second.number}번" in page
    assert f"다른 사용자가 먼저 바꾸어 그대로 둔 요구사항 1건: {third.number}번" in page
    assert _fresh(first).due_date.isoformat() == due and _fresh(second).due_date.isoformat() == due
    assert _fresh(third).due_date == dates.today() + timedelta(days=5)
    for item in (first, second):
        rows = db.session.scalars(select(History).where(
            History.recommendation_id == item.id, History.kind == HistoryKind.DUE_DATE.value)).all()
        assert [row.new_value for row in rows][-1] == due


def test_bulk_approval_refuses_what_cannot_be_approved_and_approves_the_rest(app, make):
    team = make.team()
    worker = make.user("department", team=team)
    auditor = make.user("audit")
    with notifications.quiet():
        ready, bare, open_item = (make.recommendation(lead=team, state="in_progress")
                                  for _ in range(3))
        for item in (ready, bare):
            ops.edit_result(item, worker, action_details="ㅇ 조치함", future_plan=None)
        evidence_ops.upload(ready, worker, io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "결과.pdf")
        ops.fire(ready, "submit", worker)
        ops.fire(bare, "submit", worker)
    db.session.commit()
    client = client_for(app, auditor)
    token = _token(client)
    items = (ready, bare, open_item)
    response = client.post(f"/recommendations/bulk?audit={ready.audit_id}", data={
        "csrf_token": token, "ids": [str(i.id) for i in items],
        **{f"v{i.id}": str(_fresh(i).version) for i in items},
        "action": "approve", "confirm": "y"}, follow_redirects=True)
    page = text(response)
    assert f"1건을 '승인(완료)' 처리했습니다: {ready.number}번" in page
    assert f"처리하지 못한 요구사항 1건({bare.number}번): 증빙자료가 없습니다." in page
    assert f"처리하지 못한 요구사항 1건({open_item.number}번): '추진 중' 상태에서는" in page
    assert [_fresh(i).state for i in items] == ["completed", "reviewing", "in_progress"]
    told = db.session.scalars(select(Notification).where(
        Notification.kind == NotificationKind.APPROVED.value)).all()
    assert {n.recommendation_id for n in told} == {ready.id}


def test_all_that_match_the_filter_and_nothing_without_confirmation(app, make):
    lead, other = make.team("주관팀"), make.team("다른팀")
    auditor = make.user("audit")
    audit = make.audit()
    items = [make.recommendation(audit=audit) for _ in range(3)]
    elsewhere = make.recommendation()  # another audit: not in the filter
    db.session.commit()
    client = client_for(app, auditor)
    token = _token(client)
    unconfirmed = client.post(f"/recommendations/bulk?audit={audit.id}", data={
        "csrf_token": token, "all_matching": "y", "action": "assign",
        "lead_team": str(lead.id)}, follow_redirects=True)
    assert "일괄 처리하려면 확인란에 표시하세요." in text(unconfirmed)
    assert all(_fresh(i).lead_team_id not in (lead.id, None) for i in items)  # as they were
    done = client.post(f"/recommendations/bulk?audit={audit.id}", data={
        "csrf_token": token, "all_matching": "y", "action": "assign", "lead_team": str(lead.id),
        "supporting_teams": [str(other.id)], "reason": "일괄 지정", "confirm": "y"},
        follow_redirects=True)
    assert "3건을 '담당 부서 지정' 처리했습니다" in text(done)
    for item in items:
        fresh = _fresh(item)
        assert fresh.lead_team_id == lead.id and [t.id for t in fresh.supporting_teams] == [other.id]
    assert _fresh(elsewhere).lead_team_id != lead.id


def test_an_item_that_is_not_there_is_not_found_and_nothing_changes(app, make):
    team = make.team()
    item = make.recommendation(lead=team)
    client = client_for(app, make.user("audit"))
    token = _token(client)
    response = client.post("/recommendations/bulk", data={
        "csrf_token": token, "ids": [str(item.id), "999999"], "action": "due_date",
        "due_date": "2027-01-31", "confirm": "y"})
    assert response.status_code == 404
    assert _fresh(item).due_date is None
