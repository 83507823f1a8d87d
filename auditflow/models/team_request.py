"""What every request of a team to the audit team holds (기한 연장, 이관).

A team asks with a reason; the audit team approves or declines (with a reason), or the
team withdraws while the request waits. ``state`` is changed only by the request's own
workflow (``auditflow.workflow``). One waiting request of a kind per item at a time.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from auditflow.models.base import UTCDateTime, sql_in, utcnow
from auditflow.vocabulary import RequestState

if TYPE_CHECKING:
    from auditflow.models.recommendation import Recommendation
    from auditflow.models.user import User


def request_constraints(table: str) -> tuple[Any, ...]:
    """The table's rules: a known state, a decision time once decided, one waiting per item."""
    return (
        CheckConstraint(f"state IN ({sql_in(RequestState)})", name=f"ck_{table}_state"),
        CheckConstraint("state = 'pending' OR decided_at IS NOT NULL", name=f"ck_{table}_decided"),
        Index(f"uq_{table}_pending", "recommendation_id", unique=True,
              sqlite_where=text("state = 'pending'"), postgresql_where=text("state = 'pending'")),
    )


class TeamRequest:
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default=RequestState.PENDING.value)
    reason: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)

    @declared_attr
    def recommendation_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("recommendation.id"))

    @declared_attr
    def requested_by_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("user_account.id"))

    @declared_attr
    def decided_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("user_account.id"))

    @declared_attr
    def recommendation(cls) -> Mapped[Recommendation]:
        return relationship("Recommendation")

    @declared_attr
    def requested_by(cls: type[Any]) -> Mapped[User]:
        return relationship("User", foreign_keys=f"{cls.__name__}.requested_by_id")

    @declared_attr
    def decided_by(cls: type[Any]) -> Mapped[User | None]:
        return relationship("User", foreign_keys=f"{cls.__name__}.decided_by_id")

    @property
    def state_enum(self) -> RequestState:
        return RequestState(self.state)
