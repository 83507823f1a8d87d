from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditflow.extensions import Model
from auditflow.models.base import AppendOnly, UTCDateTime, sql_in, utcnow
from auditflow.models.chain import Chained
from auditflow.models.user import User
from auditflow.vocabulary import HistoryKind

if TYPE_CHECKING:
    from auditflow.models.recommendation import Recommendation


class History(AppendOnly, Chained, Model):
    """An append-only record of everything that happened to a recommendation.

    State changes carry ``to_state``; edits carry the field with its old and new
    value, so any earlier version of an item can be rebuilt. Rows are never
    updated or deleted: the ORM refuses it and the database triggers below too.
    """

    __tablename__ = "history"
    append_only_message = "history is append-only"
    chain_label = "처리 이력"
    __table_args__ = (
        CheckConstraint(
            f"kind IN ({sql_in(HistoryKind)})",
            name="ck_history_kind",
        ),
        CheckConstraint(
            "(kind IN ('created', 'transition')) = (to_state IS NOT NULL)",
            name="ck_history_state_change",
        ),
        CheckConstraint(
            "kind <> 'transition' OR (trigger IS NOT NULL AND from_state IS NOT NULL)",
            name="ck_history_transition_trigger",
        ),
        Index("ix_history_recommendation_at", "recommendation_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendation.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(20))
    trigger: Mapped[str | None] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    field: Mapped[str | None] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)

    recommendation: Mapped[Recommendation] = relationship()
    actor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<History {self.recommendation_id} {self.kind} {self.trigger or self.field}>"
