"""What the two kinds of team request share (기한 연장, 이관): the reason a team gives,
and the decision stamped on the request. Operations flush; the caller commits."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy import select

from auditflow.errors import DomainError
from auditflow.extensions import db
from auditflow.models import Recommendation, User
from auditflow.models.team_request import TeamRequest
from auditflow.services.limits import REASON_MAX, bounded
from auditflow.vocabulary import RequestState

R = TypeVar("R", bound=TeamRequest)


def checked_reason(reason: str | None, missing: str) -> str:
    """The team's reason, stripped; ``missing`` is said when there is none."""
    text = (reason or "").strip()
    if not text:
        raise DomainError(missing, code="reason_required")
    if len(text) > REASON_MAX:
        raise DomainError(f"사유는 {REASON_MAX}자 이하로 입력하세요.", code="reason_too_long")
    return text


def waiting(kind: type[R], recommendation: Recommendation) -> R | None:
    """The item's request of this kind that waits for the audit team, if any."""
    return db.session.scalar(select(kind).where(
        kind.recommendation_id == recommendation.id,
        kind.state == RequestState.PENDING.value))


def stamp_decision(request: TeamRequest, actor: User, reason: str | None,
                   when: datetime) -> None:
    """Who decided (or withdrew) when, and why; the item's version moves with it. A reason
    over the limit refuses the decision (the caller's transaction rolls back)."""
    bounded((reason or "").strip(), REASON_MAX, label="사유", field="reason")
    request.decided_by = actor
    request.decided_at = when
    request.decision_reason = (reason or "").strip() or None
    request.recommendation.updated_at = when


def decision_word(request: TeamRequest) -> str:
    return "승인" if request.state_enum is RequestState.APPROVED else "반려"
