"""이관: the lead team asks for the item to be handed to another team; the audit team decides.

A team that finds an item is not its work says so with a reason and names the team it
belongs to, rather than the item waiting until someone notices (one waiting request per
item). Approving, declining and withdrawing are the transfer workflow's triggers
(``auditflow.workflow.TRANSFERS``). An approval reassigns the item through the same
operation as the audit team's own assignment, so the new lead team is told as any
newly assigned team is, and the history shows who changed the teams when and why; the
asking team is told of the decision. Operations flush; the caller commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from auditflow import workflow
from auditflow.errors import DomainError, Forbidden
from auditflow.extensions import db
from auditflow.korean import particle
from auditflow.models import History, OrgUnit, Recommendation, TransferRequest, User, utcnow
from auditflow.permissions import Capability
from auditflow.services import notifications
from auditflow.services.recommendations import assign, expect_version, flush
from auditflow.services.team_requests import (
    checked_reason,
    decision_word,
    stamp_decision,
    waiting,
)
from auditflow.vocabulary import HistoryKind, NotificationKind, RequestState
from auditflow.workflow.guards import TEAM_STATES

REQUEST_TRIGGER = "request_transfer"


def pending(recommendation: Recommendation) -> TransferRequest | None:
    return waiting(TransferRequest, recommendation)


def may_request(recommendation: Recommendation, user: User) -> bool:
    """The item's lead team, while the item is its to work on."""
    return (user.can(Capability.WORK_ON_ASSIGNED_ITEMS) and recommendation.is_lead(user)
            and recommendation.state_enum in TEAM_STATES)


def request(recommendation: Recommendation, actor: User, to_team: OrgUnit | None,
            reason: str | None, *, expected_version: int | None = None,
            at: datetime | None = None) -> TransferRequest:
    """The lead team asks for the item to go to ``to_team`` because of ``reason``."""
    if not (actor.can(Capability.WORK_ON_ASSIGNED_ITEMS) and recommendation.is_lead(actor)):
        raise Forbidden("이관은 이 요구사항의 주관 부서만 요청할 수 있습니다.",
                        code="transfer_forbidden")
    expect_version(recommendation, expected_version)
    if recommendation.state_enum not in TEAM_STATES:
        raise DomainError("검토 중이거나 끝난 요구사항은 이관할 수 없습니다.",
                          code="item_not_with_team", status=409)
    text = checked_reason(reason, "이관이 필요한 사유를 입력하세요.")
    if to_team is None:
        raise DomainError("이관받을 부서를 고르세요.", code="team_required")
    if not to_team.is_assignable:
        raise DomainError(f"'{to_team.name}'{particle(to_team.name, '은/는')} 본부입니다. "
                          "팀 또는 TF를 고르세요.", code="team_not_assignable")
    lead = recommendation.lead_team
    if lead is None or to_team.id == lead.id:
        raise DomainError("지금 주관 부서가 아닌 다른 부서를 고르세요.", code="team_unchanged")
    if pending(recommendation) is not None:
        raise DomainError("결정을 기다리는 이관 요청이 이미 있습니다. 그 결정을 기다리거나 요청을 취소하세요.",
                          code="transfer_pending", status=409)
    when = at or utcnow()
    transfer = TransferRequest(recommendation=recommendation, from_team=lead, to_team=to_team,
                               reason=text, requested_by=actor, requested_at=when)
    db.session.add(transfer)
    db.session.add(History(recommendation=recommendation, at=when, actor=actor,
                           kind=HistoryKind.TRANSFER.value, trigger=REQUEST_TRIGGER,
                           old_value=lead.name, new_value=to_team.name, comment=text))
    recommendation.updated_at = when  # the item's version moves: a stale screen is refused
    try:
        flush()
    except IntegrityError as exc:  # another request of the same item a moment ago
        raise DomainError("결정을 기다리는 이관 요청이 이미 있습니다.", code="transfer_pending",
                          status=409) from exc
    return transfer


def decide(transfer: TransferRequest, trigger: str, actor: User, *,
           reason: str | None = None, expected_version: int | None = None,
           at: datetime | None = None) -> None:
    """Approve, decline or withdraw; an approval makes the requested team the lead."""
    item = transfer.recommendation
    expect_version(item, expected_version)
    when = at or utcnow()
    workflow.TRANSFERS.fire(transfer, trigger, actor, reason=reason, at=when)
    stamp_decision(transfer, actor, reason, when)
    if transfer.state_enum is RequestState.APPROVED:
        supporting = [team for team in item.supporting_teams if team.id != transfer.to_team_id]
        assign(item, actor, lead_team=transfer.to_team, supporting_teams=supporting,
               reason=f"이관 요청 승인: {transfer.reason}", at=when)
    flush()
    if transfer.state_enum is RequestState.WITHDRAWN:
        return
    label = decision_word(transfer)
    body = f"요청: {transfer.from_team.name} → {transfer.to_team.name}\n사유: {transfer.reason}"
    if transfer.decision_reason:
        body += f"\n{label} 의견: {transfer.decision_reason}"
    if transfer.state_enum is RequestState.APPROVED:
        body += f"\n이제 {transfer.to_team.name}에서 처리합니다."
    # The asking team no longer sees an approved item: the notice names it, without a link.
    notifications.notify(
        notifications.team_users([transfer.from_team_id]), NotificationKind.TRANSFER_DECIDED,
        recommendation=None if transfer.state_enum is RequestState.APPROVED else item,
        actor=actor, title=f"{item.audit.title} {item.number}번 요구사항: 이관 {label}", body=body)


def requests_of(recommendation: Recommendation) -> list[TransferRequest]:
    return list(db.session.scalars(
        select(TransferRequest).where(TransferRequest.recommendation_id == recommendation.id)
        .order_by(TransferRequest.id.desc())
        .options(selectinload(TransferRequest.requested_by),
                 selectinload(TransferRequest.decided_by),
                 selectinload(TransferRequest.from_team), selectinload(TransferRequest.to_team))))
