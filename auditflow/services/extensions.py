"""기한 연장: a team asks for a later due date with a reason; the audit team decides.

Asking writes a pending ``DueDateExtension`` (one at a time per item) and a row of the
item's history; approving, declining and withdrawing are the extension workflow's
triggers (``auditflow.workflow.EXTENSIONS``: who may, and in which state). An approval
changes the item's due date through the same due-date history as a direct change by
the audit team, which counts as an extension too (``reports.due_dates``). The team is
told of the decision. Operations flush; the caller commits.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from auditflow import dates, workflow
from auditflow.errors import DomainError, Forbidden
from auditflow.extensions import db
from auditflow.models import DueDateExtension, History, Recommendation, User, utcnow
from auditflow.services import notifications
from auditflow.services.recommendations import change_due_date, expect_version, flush
from auditflow.services.team_requests import (
    checked_reason,
    decision_word,
    stamp_decision,
    waiting,
)
from auditflow.vocabulary import HistoryKind, NotificationKind, RequestState

REQUEST_TRIGGER = "request_extension"


def pending(recommendation: Recommendation) -> DueDateExtension | None:
    return waiting(DueDateExtension, recommendation)


def request(recommendation: Recommendation, actor: User, requested_due: date | None,
            reason: str | None, *, expected_version: int | None = None,
            at: datetime | None = None) -> DueDateExtension:
    """The team asks to move the due date to ``requested_due`` because of ``reason``."""
    if not recommendation.works_on(actor):
        raise Forbidden("기한 연장은 이 요구사항의 주관·협조 부서만 요청할 수 있습니다.",
                        code="extension_forbidden")
    expect_version(recommendation, expected_version)
    if recommendation.state_enum.is_closed:
        raise DomainError("완료되거나 미반영 처리된 요구사항의 기한은 바꿀 수 없습니다.",
                          code="item_closed", status=409)
    text = checked_reason(reason, "연장이 필요한 사유를 입력하세요.")
    if requested_due is None:
        raise DomainError("새 처리 기한을 입력하세요.", code="due_date_required")
    current = recommendation.due_date
    if requested_due <= max(current or dates.today(), dates.today()):
        raise DomainError("새 기한은 지금 기한과 오늘보다 뒤여야 합니다.", code="due_date_not_later")
    if pending(recommendation) is not None:
        raise DomainError("결정을 기다리는 연장 요청이 이미 있습니다. 그 결정을 기다리거나 요청을 취소하세요.",
                          code="extension_pending", status=409)
    when = at or utcnow()
    extension = DueDateExtension(recommendation=recommendation, previous_due=current,
                                 requested_due=requested_due, reason=text,
                                 requested_by=actor, requested_at=when)
    db.session.add(extension)
    db.session.add(History(recommendation=recommendation, at=when, actor=actor,
                           kind=HistoryKind.EXTENSION.value, trigger=REQUEST_TRIGGER,
                           old_value=current.isoformat() if current else None,
                           new_value=requested_due.isoformat(), comment=text))
    recommendation.updated_at = when  # the item's version moves: a stale screen is refused
    try:
        flush()
    except IntegrityError as exc:  # another request of the same item a moment ago
        raise DomainError("결정을 기다리는 연장 요청이 이미 있습니다.", code="extension_pending",
                          status=409) from exc
    return extension


def decide(extension: DueDateExtension, trigger: str, actor: User, *,
           reason: str | None = None, expected_version: int | None = None,
           at: datetime | None = None) -> None:
    """Approve, decline or withdraw; an approval moves the item's due date."""
    expect_version(extension.recommendation, expected_version)
    when = at or utcnow()
    workflow.EXTENSIONS.fire(extension, trigger, actor, reason=reason, at=when)
    stamp_decision(extension, actor, reason, when)
    item = extension.recommendation
    if extension.state_enum is RequestState.APPROVED:
        # At the approval's own moment: that is how the change is known as requested.
        change_due_date(item, actor, extension.requested_due, reason=extension.reason, at=when)
    flush()
    if extension.state_enum is not RequestState.WITHDRAWN:
        label = decision_word(extension)
        body = (f"요청한 기한: {dates.short(extension.requested_due)} "
                f"(이전 {dates.short(extension.previous_due) or '미지정'})")
        if extension.decision_reason:
            body += f"\n{label} 의견: {extension.decision_reason}"
        notifications.notify(notifications.team_users(item.team_ids),
                             NotificationKind.EXTENSION_DECIDED, recommendation=item, actor=actor,
                             title=f"{item.audit.title} {item.number}번 요구사항: 기한 연장 {label}",
                             body=body)


def requests_of(recommendation: Recommendation) -> list[DueDateExtension]:
    return list(db.session.scalars(
        select(DueDateExtension).where(DueDateExtension.recommendation_id == recommendation.id)
        .order_by(DueDateExtension.id.desc())
        .options(selectinload(DueDateExtension.requested_by),
                 selectinload(DueDateExtension.decided_by))))
