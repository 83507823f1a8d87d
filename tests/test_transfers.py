"""이관: the lead team asks for an item to go to another team, the audit team decides, and
every step is in the item's history; the new lead team is told as any assigned team is."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from auditflow.errors import DomainError
from auditflow.extensions import db
from auditflow.models import History, Notification, Recommendation, TransferRequest
from auditflow.reports.work_queue import work_queue
from auditflow.services import notifications, transfers
from auditflow.services import recommendations as ops
from auditflow.vocabulary import HistoryKind, NotificationKind, RequestState
from auditflow.workflow import TRANSFER_TRANSITIONS, WorkflowError
from tests.pages_helpers import client_for, post, text

REASON = "이 요구사항은 인사 제도 소관으로 창의경영팀 업무입니다."


@pytest.fixture
def world(make):
    lead, helper, other = make.team("주관팀"), make.team("협조팀"), make.team("다른팀")
    with notifications.quiet():
        item = make.recommendation(lead=lead, supporting=[helper], state="in_progress")
    people = {
        "audit": make.user("audit"),
        "lead": make.user("department", team=lead),
        "helper": make.user("department", team=helper),
        "other": make.user("department", team=other),
        "liaison": make.user("liaison"),
        "admin": make.user("admin"),
        "nobody": None,
    }
    db.session.commit()
    return item, people, {"lead": lead, "helper": helper, "other": other}


def ask(item, who, to_team, reason=REASON):
    return transfers.request(item, who, to_team, reason)


def test_asking_writes_the_request_and_the_history_and_changes_no_team(world):
    item, people, teams = world
    request = ask(item, people["lead"], teams["other"])
    db.session.commit()
    assert request.state_enum is RequestState.PENDING
    assert (request.from_team_id, request.to_team_id) == (teams["lead"].id, teams["other"].id)
    assert item.lead_team_id == teams["lead"].id  # nothing moved yet
    row = db.session.scalars(select(History).where(
        History.recommendation_id == item.id, History.kind == HistoryKind.TRANSFER.value)).one()
    assert (row.trigger, row.old_value, row.new_value, row.comment) == (
        "request_transfer", "주관팀", "다른팀", REASON)


@pytest.mark.parametrize(("who", "to", "reason", "code"), [
    ("helper", "other", REASON, "transfer_forbidden"),  # only the lead team asks
    ("other", "other", REASON, "transfer_forbidden"),
    ("audit", "other", REASON, "transfer_forbidden"),  # the audit team assigns directly
    ("lead", "other", "  ", "reason_required"),
    ("lead", None, REASON, "team_required"),
    ("lead", "lead", REASON, "team_unchanged"),
])
def test_bad_requests_are_refused_and_change_nothing(world, who, to, reason, code):
    item, people, teams = world
    with pytest.raises(DomainError) as refused:
        ask(item, people[who], teams[to] if to else None, reason)
    assert refused.value.code == code
    db.session.rollback()
    assert db.session.scalars(select(TransferRequest)).all() == []


def test_a_division_cannot_take_an_item(world, make):
    item, people, _ = world
    from auditflow.models import OrgUnit
    from auditflow.vocabulary import UnitKind

    division = OrgUnit(code="div-x", name="경영기획본부", kind=UnitKind.DIVISION.value)
    db.session.add(division)
    db.session.flush()
    with pytest.raises(DomainError) as refused:
        ask(item, people["lead"], division)
    assert refused.value.code == "team_not_assignable"
    assert "'경영기획본부'는 본부입니다." in refused.value.message  # the particle fits the word


def test_one_request_waits_at_a_time_and_only_while_the_team_works(world):
    item, people, teams = world
    ask(item, people["lead"], teams["other"])
    with pytest.raises(DomainError) as refused:
        ask(item, people["lead"], teams["helper"])
    assert refused.value.code == "transfer_pending"
    db.session.rollback()
    with notifications.quiet():
        ops.edit_result(item, people["lead"], action_details="ㅇ 내용", future_plan=None)
        ops.fire(item, "submit", people["lead"])
    with pytest.raises(DomainError) as reviewing:
        ask(item, people["lead"], teams["other"])
    assert reviewing.value.code == "item_not_with_team"


ALLOWED = {
    "approve_transfer": {"audit"},
    "decline_transfer": {"audit"},
    "withdraw_transfer": {"lead"},
}


@pytest.mark.parametrize("who", ["audit", "lead", "helper", "other", "liaison", "admin", "nobody"])
@pytest.mark.parametrize("spec", TRANSFER_TRANSITIONS, ids=lambda spec: spec.trigger)
def test_every_decision_by_role_and_team(world, spec, who):
    item, people, teams = world
    request = ask(item, people["lead"], teams["other"])
    db.session.commit()
    if who in ALLOWED[spec.trigger]:
        transfers.decide(request, spec.trigger, people[who], reason="검토함")
        assert request.state_enum is spec.dest
        assert request.decided_by_id == people[who].id and request.decided_at is not None
        moved = spec.trigger == "approve_transfer"
        assert item.lead_team_id == (teams["other"].id if moved else teams["lead"].id)
    else:
        with pytest.raises(WorkflowError) as refused:
            transfers.decide(request, spec.trigger, people[who], reason="검토함")
        assert refused.value.status == 403
        db.session.rollback()
        assert db.session.get(TransferRequest, request.id).state == "pending"
        assert db.session.get(Recommendation, item.id).lead_team_id == teams["lead"].id


def test_a_decline_needs_its_reason_and_a_decision_is_final(world):
    item, people, teams = world
    request = ask(item, people["lead"], teams["other"])
    with pytest.raises(WorkflowError) as refused:
        transfers.decide(request, "decline_transfer", people["audit"], reason=" ")
    assert refused.value.code == "reason_required"
    transfers.decide(request, "decline_transfer", people["audit"], reason="주관팀 소관이 맞음")
    with pytest.raises(WorkflowError) as again:
        transfers.decide(request, "approve_transfer", people["audit"])
    assert again.value.code == "invalid_state"
    assert ask(item, people["lead"], teams["helper"]).state_enum is RequestState.PENDING


def test_an_approval_after_the_teams_changed_is_refused(world):
    item, people, teams = world
    request = ask(item, people["lead"], teams["other"])
    ops.assign(item, people["audit"], lead_team=teams["helper"], supporting_teams=[],
               reason="감사팀이 직접 재지정")
    with pytest.raises(WorkflowError) as refused:
        transfers.decide(request, "approve_transfer", people["audit"])
    assert refused.value.code == "lead_team_changed"
    # Declining it is still possible, with a reason.
    transfers.decide(request, "decline_transfer", people["audit"], reason="이미 재지정함")
    assert request.state_enum is RequestState.DECLINED


def test_an_approval_hands_the_item_on_and_tells_both_teams(world):
    item, people, teams = world
    request = ask(item, people["lead"], teams["helper"])  # the supporting team takes the lead
    transfers.decide(request, "approve_transfer", people["audit"], reason="타당함")
    db.session.commit()
    item = db.session.get(Recommendation, item.id)
    assert item.lead_team_id == teams["helper"].id
    assert [team.id for team in item.supporting_teams] == []  # not its own supporter
    assert not item.can_view(people["lead"])  # no longer the asking team's
    assignment = db.session.scalars(select(History).where(
        History.recommendation_id == item.id, History.kind == HistoryKind.ASSIGNMENT.value)
        .order_by(History.id.desc())).first()
    assert assignment.actor_id == people["audit"].id and REASON in assignment.comment
    decided = db.session.scalars(select(Notification).where(
        Notification.kind == NotificationKind.TRANSFER_DECIDED.value)).all()
    asking_team = {user.id for user in notifications.team_users([teams["lead"].id])}
    assert {n.user_id for n in decided} == asking_team and people["lead"].id in asking_team
    assert decided[0].recommendation_id is None  # they can no longer open it
    assert "이관 승인" in decided[0].title and "타당함" in decided[0].body
    assigned = db.session.scalars(select(Notification).where(
        Notification.kind == NotificationKind.ASSIGNED.value,
        Notification.user_id == people["helper"].id)).all()
    assert [n.recommendation_id for n in assigned] == [item.id]
    assert "주관 부서로 지정" in assigned[0].title


def test_withdrawn_tells_nobody(world):
    item, people, teams = world
    request = ask(item, people["lead"], teams["other"])
    transfers.decide(request, "withdraw_transfer", people["lead"])
    db.session.commit()
    assert request.state_enum is RequestState.WITHDRAWN
    assert db.session.scalars(select(Notification)).all() == []


def test_the_queues_show_requests_to_the_audit_team_and_a_decline_to_the_team(world):
    item, people, teams = world
    request = ask(item, people["lead"], teams["other"])
    db.session.commit()
    audit_rows = work_queue(people["audit"]).rows
    asked = [r for r in audit_rows if r.reason.code == "transfer_requested"]
    assert [r.item.id for r in asked] == [item.id]
    assert asked[0].detail == f"주관팀 → 다른팀: {REASON}"
    transfers.decide(request, "decline_transfer", people["audit"], reason="소관 맞음")
    db.session.commit()
    assert not [r for r in work_queue(people["audit"]).rows if r.reason.code == "transfer_requested"]
    first = work_queue(people["lead"]).rows[0]
    assert (first.reason.code, first.item.id) == ("transfer_declined", item.id)
    assert first.detail == "다른팀으로 이관 반려: 소관 맞음"


def test_the_pages_ask_decide_and_show_the_story(app, world):
    item, people, teams = world
    lead = client_for(app, people["lead"])
    page = lead.get(f"/recommendations/{item.id}").get_data(as_text=True)
    assert "이관 요청" in page and f'<option value="{teams["lead"].id}"' not in page
    helper_page = client_for(app, people["helper"]).get(f"/recommendations/{item.id}")
    assert "우리 팀 업무가 아니면: 이관 요청" not in text(helper_page)  # only the lead asks

    refused = post(lead, f"/recommendations/{item.id}/transfers",
                   {"to_team": "0", "reason": REASON, "version": str(item.version)}, follow=True)
    assert "이관받을 부서를 고르세요." in text(refused)
    asked = post(lead, f"/recommendations/{item.id}/transfers",
                 {"to_team": str(teams["other"].id), "reason": REASON,
                  "version": str(item.version)}, follow=True)
    assert "다른팀으로 이관을 요청했습니다." in text(asked) and "결정 대기" in text(asked)
    db.session.expire_all()
    request = db.session.scalars(select(TransferRequest)).one()

    audit = client_for(app, people["audit"])
    version = str(db.session.get(Recommendation, item.id).version)
    approved = post(audit, f"/recommendations/{item.id}/transfers/{request.id}/approve_transfer",
                    {"reason": "", "version": version}, follow=True)
    page = text(approved)
    assert "이관 요청을 '이관 승인' 처리했습니다" in page
    assert "이관 승인: 주관팀 → 다른팀" in page  # the history says it
    db.session.expire_all()
    assert db.session.get(Recommendation, item.id).lead_team_id == teams["other"].id
    assert lead.get(f"/recommendations/{item.id}").status_code == 404  # handed on
    # A decision on a request of another item is not found.
    other_item = ops.register(item.audit, number=99, category=item.category_enum,
                              council_text="다른 요구", actor=people["audit"])
    db.session.commit()
    wrong = post(audit, f"/recommendations/{other_item.id}/transfers/{request.id}/decline_transfer",
                 {"reason": "x", "version": str(other_item.version)})
    assert wrong.status_code == 404
