"""The workflow: every trigger allowed and refused, by state, by role, by team."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from auditflow import workflow
from auditflow.errors import DomainError
from auditflow.extensions import db
from auditflow.models import AppendOnlyViolation, History
from auditflow.services import recommendations as ops
from auditflow.vocabulary import State
from auditflow.workflow import TRANSITIONS, WorkflowError
from auditflow.workflow.machine import MACHINE
from tests.conftest import owner_engine

REASON = "사유를 적습니다"


def history_count(recommendation) -> int:
    return db.session.scalar(
        select(func.count()).select_from(History).where(History.recommendation_id == recommendation.id)
    )


def snapshot(recommendation):
    db.session.flush()
    return (recommendation.state, recommendation.version, history_count(recommendation))


def actor_for(make, recommendation, trigger):
    """Somebody the definition admits for this trigger."""
    spec = workflow.BY_TRIGGER[trigger]
    if spec.team_only:
        return make.user("department", team=recommendation.lead_team)
    return make.user("audit")


@pytest.mark.parametrize("flow", [workflow.ITEMS, workflow.EXTENSIONS, workflow.TRANSFERS],
                         ids=["items", "extensions", "transfers"])
def test_every_machine_is_built_from_its_definition_only(flow):
    machine = flow.machine
    assert machine.auto_transitions is False
    assert machine.send_event is True
    assert machine.model_attribute == "state"
    assert set(machine.states) == {state.value for state in flow.states}
    declared = {
        (spec.trigger, source.value, spec.dest.value)
        for spec in flow.transitions for source in spec.sources
    }
    built = {
        (name, source, transition.dest)
        for name, event in machine.events.items()
        for source, transitions in event.transitions.items()
        for transition in transitions
    }
    assert built == declared
    assert not any(name.startswith("to_") for name in machine.events)


def test_the_item_workflow_is_the_module_s_own():
    assert MACHINE is workflow.ITEMS.machine
    assert {spec.trigger for spec in TRANSITIONS} == set(workflow.ITEMS.by_trigger)
    assert set(MACHINE.states) == {state.value for state in State}


def test_no_code_assigns_a_state_directly():
    package = Path(__file__).resolve().parent.parent / "auditflow"
    offenders = []
    for path in package.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\.state\s*=[^=]", line) or re.search(r"setattr\([^)]*['\"]state['\"]", line):
                offenders.append(f"{path.relative_to(package)}:{number}: {line.strip()}")
    assert offenders == []


@pytest.mark.parametrize("spec", TRANSITIONS, ids=lambda spec: spec.trigger)
@pytest.mark.parametrize("state", list(State), ids=lambda state: state.value)
def test_trigger_by_state(make, spec, state):
    recommendation = make.recommendation(state=state.value)
    actor = actor_for(make, recommendation, spec.trigger)
    before = snapshot(recommendation)
    if state in spec.sources:
        ops.fire(recommendation, spec.trigger, actor, reason=REASON, confirmed=True)
        assert recommendation.state == spec.dest
        rows = db.session.scalars(
            select(History).where(History.recommendation_id == recommendation.id)
            .order_by(History.id.desc()).limit(1)
        ).all()
        assert rows[0].trigger == spec.trigger
        assert (rows[0].from_state, rows[0].to_state) == (state.value, spec.dest.value)
        assert rows[0].actor_id == actor.id
        assert rows[0].comment == REASON
        assert history_count(recommendation) == before[2] + 1
    else:
        with pytest.raises(WorkflowError) as refused:
            ops.fire(recommendation, spec.trigger, actor, reason=REASON, confirmed=True)
        assert refused.value.code == "invalid_state"
        assert snapshot(recommendation) == before


ACTORS = ["audit", "lead_team", "supporting_team", "other_team", "liaison", "admin", "inactive_lead", "nobody"]
ALLOWED = {
    "start": {"lead_team", "supporting_team"},
    "submit": {"lead_team"},  # supporting teams add evidence and comments; the lead submits
    "approve": {"audit"},
    "return_for_rework": {"audit"},
    "decline": {"audit"},
    "reopen": {"audit"},
}


def make_actor(make, recommendation, who, supporting):
    if who == "audit":
        return make.user("audit")
    if who == "lead_team":
        return make.user("department", team=recommendation.lead_team)
    if who == "supporting_team":
        return make.user("department", team=supporting)
    if who == "other_team":
        return make.user("department")
    if who == "inactive_lead":
        return make.user("department", team=recommendation.lead_team, active=False)
    if who == "nobody":
        return None
    return make.user(who)


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("spec", TRANSITIONS, ids=lambda spec: spec.trigger)
def test_trigger_by_role_and_team(make, spec, who):
    supporting = make.team()
    recommendation = make.recommendation(supporting=[supporting], state=spec.sources[0].value)
    actor = make_actor(make, recommendation, who, supporting)
    before = snapshot(recommendation)
    if who in ALLOWED[spec.trigger]:
        ops.fire(recommendation, spec.trigger, actor, reason=REASON, confirmed=True)
        assert recommendation.state == spec.dest
        assert history_count(recommendation) == before[2] + 1
    else:
        with pytest.raises(WorkflowError) as refused:
            ops.fire(recommendation, spec.trigger, actor, reason=REASON, confirmed=True)
        assert refused.value.code in {"role_not_allowed", "team_not_assigned", "lead_team_only"}
        assert refused.value.status == 403
        assert refused.value.message  # a Korean sentence for the user
        assert snapshot(recommendation) == before


@pytest.mark.parametrize("trigger", ["return_for_rework", "decline", "reopen"])
def test_reason_is_required(make, trigger):
    state = workflow.BY_TRIGGER[trigger].sources[0].value
    recommendation = make.recommendation(state=state)
    auditor = make.user("audit")
    before = snapshot(recommendation)
    for blank in (None, "", "   "):
        with pytest.raises(WorkflowError) as refused:
            ops.fire(recommendation, trigger, auditor, reason=blank, confirmed=True)
        assert refused.value.code == "reason_required"
        assert refused.value.status == 400  # the request lacks an input
    assert snapshot(recommendation) == before


@pytest.mark.parametrize("trigger", ["decline", "reopen"])
def test_confirmation_is_required_where_the_definition_asks_for_it(make, trigger):
    spec = workflow.BY_TRIGGER[trigger]
    assert spec.confirm
    recommendation = make.recommendation(state=spec.sources[0].value)
    auditor = make.user("audit")
    before = snapshot(recommendation)
    with pytest.raises(WorkflowError) as refused:
        ops.fire(recommendation, trigger, auditor, reason=REASON)
    assert refused.value.code == "confirmation_required"
    assert refused.value.status == 400
    assert refused.value.message == f"'{spec.label}'{'를' if trigger == 'decline' else '을'} 하려면 '확인했습니다'에 표시하세요."
    assert snapshot(recommendation) == before
    ops.fire(recommendation, trigger, auditor, reason=REASON, confirmed=True)
    assert recommendation.state == spec.dest


def test_only_decline_and_reopen_ask_for_confirmation():
    assert {spec.trigger for spec in TRANSITIONS if spec.confirm} == {"decline", "reopen"}


def test_approve_needs_evidence_or_a_reason(make):
    recommendation = make.recommendation(state="reviewing")
    auditor = make.user("audit")
    before = snapshot(recommendation)
    with pytest.raises(WorkflowError) as refused:
        ops.fire(recommendation, "approve", auditor)
    assert refused.value.code == "evidence_required"
    assert snapshot(recommendation) == before
    ops.fire(recommendation, "approve", auditor, reason="증빙이 필요 없는 서면 답변")
    assert recommendation.state == State.COMPLETED


def test_approve_with_evidence_needs_no_reason(make):
    from auditflow.models import Evidence

    recommendation = make.recommendation(state="reviewing")
    uploader = make.user("department", team=recommendation.lead_team)
    db.session.add(Evidence(recommendation=recommendation, original_name="결과.pdf", storage_key="a" * 32,
                            size=10, sha256="0" * 64, content_type="application/pdf", uploaded_by=uploader))
    db.session.flush()
    db.session.refresh(recommendation)
    ops.fire(recommendation, "approve", make.user("audit"))
    assert recommendation.state == State.COMPLETED


def test_submit_needs_action_details(make):
    recommendation = make.recommendation(state="received")
    worker = make.user("department", team=recommendation.lead_team)
    ops.fire(recommendation, "start", worker)
    before = snapshot(recommendation)
    with pytest.raises(WorkflowError) as refused:
        ops.fire(recommendation, "submit", worker)
    assert refused.value.code == "action_details_required"
    assert snapshot(recommendation) == before


def test_unknown_trigger_is_refused(make):
    recommendation = make.recommendation()
    with pytest.raises(WorkflowError) as refused:
        ops.fire(recommendation, "to_completed", make.user("audit"))
    assert refused.value.code == "unknown_trigger"
    assert refused.value.status == 404
    assert recommendation.state == State.RECEIVED


def test_available_actions_follow_the_definition(make):
    recommendation = make.recommendation(state="reviewing")
    auditor = make.user("audit")
    worker = make.user("department", team=recommendation.lead_team)
    actions = {action.trigger: action for action in workflow.available_actions(recommendation, auditor)}
    assert list(actions) == ["approve", "return_for_rework", "decline"]
    assert actions["approve"].reason_required is True  # no evidence yet
    assert actions["return_for_rework"].reason_required is True
    assert workflow.available_actions(recommendation, worker) == []
    assert workflow.available_actions(recommendation, make.user("liaison")) == []
    assert workflow.available_actions(recommendation, None) == []


def test_available_actions_agree_with_firing(make):
    """Whatever the list offers can be fired, and whatever it hides is refused."""
    for state in State:
        recommendation = make.recommendation(state=state.value)
        for user in (make.user("audit"), make.user("department", team=recommendation.lead_team),
                     make.user("department"), make.user("liaison"), make.user("admin")):
            offered = {action.trigger for action in workflow.available_actions(recommendation, user)}
            for spec in TRANSITIONS:
                refused = workflow.refusal(recommendation, spec.trigger, user, reason=REASON,
                                           confirmed=True)
                assert (refused is None) == (spec.trigger in offered), (state, user.role, spec.trigger)


def test_the_machine_itself_asks_the_same_refusal(make):
    """A trigger fired on a bound model, bypassing ``fire``, is held to the same guards."""
    from auditflow.workflow.machine import bound

    recommendation = make.recommendation(state="reviewing")
    before = snapshot(recommendation)
    with bound(recommendation) as model:
        assert model.may_approve(actor=make.user("liaison"), reason=REASON) is False
        assert model.approve(actor=make.user("department", team=recommendation.lead_team),
                             reason=REASON) is False
        assert model.decline(actor=make.user("audit"), reason=REASON) is False  # not confirmed
    assert snapshot(recommendation) == before
    with bound(recommendation) as model:
        assert model.may_approve(actor=make.user("audit"), reason=REASON) is True


def test_reviewers_cannot_empty_the_result_of_an_item_in_review(make):
    recommendation = make.recommendation(state="reviewing")
    auditor = make.user("audit")
    before = snapshot(recommendation)
    with pytest.raises(DomainError) as refused:
        ops.edit_result(recommendation, auditor, action_details="   ", future_plan=None)
    assert refused.value.code == "action_details_required"
    assert snapshot(recommendation) == before
    ops.edit_result(recommendation, auditor, action_details="ㅇ 고친 추진내용", future_plan=None)
    assert recommendation.action_details == "ㅇ 고친 추진내용"


@pytest.mark.parametrize(("state", "statement"), [
    *((state, "UPDATE recommendation SET action_details = ' ' WHERE id = :id")
      for state in ("reviewing", "completed", "not_reflected")),
    ("in_progress", "UPDATE recommendation SET lead_team_id = NULL WHERE id = :id"),
], ids=["reviewing-no-result", "completed-no-result", "not_reflected-no-result",
        "in_progress-no-lead-team"])
def test_the_database_holds_the_columns_a_state_requires(make, state, statement):
    from sqlalchemy.exc import IntegrityError

    recommendation = make.recommendation(state=state)
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(text(statement), {"id": recommendation.id})
    db.session.rollback()


def test_an_item_at_work_keeps_a_lead_team(make):
    recommendation = make.recommendation(state="in_progress")
    before = snapshot(recommendation)
    with pytest.raises(DomainError) as refused:
        ops.assign(recommendation, make.user("audit"), lead_team=None)
    assert refused.value.code == "lead_team_required"
    assert snapshot(recommendation) == before


def test_the_machine_keeps_no_reference_to_items(make):
    recommendation = make.recommendation(state="in_progress")
    workflow.available_actions(recommendation, make.user("audit"))
    assert recommendation not in MACHINE.models
    assert not hasattr(recommendation, "may_start")


def test_history_is_append_only_in_the_orm(make):
    recommendation = make.recommendation(state="in_progress")
    db.session.commit()
    row = db.session.scalars(select(History).where(History.recommendation_id == recommendation.id)).first()
    row.comment = "고쳐 씀"
    with pytest.raises(AppendOnlyViolation):
        db.session.flush()
    db.session.rollback()
    row = db.session.scalars(select(History)).first()
    db.session.delete(row)
    with pytest.raises(AppendOnlyViolation):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("statement", ["UPDATE history SET comment = 'x'", "DELETE FROM history"])
def test_history_is_append_only_in_the_database(make, statement):
    make.recommendation(state="in_progress")
    db.session.commit()
    # As the tables' owner: the triggers refuse it (the application's own role, when it
    # runs as one, may not even try: tests/test_integrity.py).
    with pytest.raises(Exception, match="append-only"), owner_engine().begin() as connection:
        connection.execute(text(statement))
    assert db.session.scalar(select(func.count()).select_from(History)) > 0



def test_a_supporting_team_adds_evidence_and_comments_but_only_the_lead_submits(make):
    import io

    from auditflow.services import comments
    from auditflow.services import evidence as evidence_ops
    from tests.test_storage import make_pdf

    helper = make.team("협조팀")
    recommendation = make.recommendation(supporting=[helper], state="in_progress")
    supporter = make.user("department", team=helper)
    stored = evidence_ops.upload(recommendation, supporter, io.BytesIO(make_pdf()), "협조 자료.pdf")
    assert stored.uploaded_by_id == supporter.id
    assert comments.add(recommendation, supporter, "자료를 올렸습니다.").author_id == supporter.id
    with pytest.raises(WorkflowError) as refused:
        ops.fire(recommendation, "submit", supporter)
    assert (refused.value.code, refused.value.status) == ("lead_team_only", 403)
    assert "submit" not in [a.trigger for a in workflow.available_actions(recommendation, supporter)]
    lead = make.user("department", team=recommendation.lead_team)
    ops.fire(recommendation, "submit", lead)
    assert recommendation.state == State.REVIEWING
