from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from auditflow.extensions import db
from auditflow.models.base import UTCDateTime, make_append_only, utcnow
from auditflow.models.user import User

if TYPE_CHECKING:
    from auditflow.models.recommendation import Recommendation


class HistoryKind(enum.StrEnum):
    CREATED = "created"
    TRANSITION = "transition"
    ASSIGNMENT = "assignment"
    DUE_DATE = "due_date"
    RESULT = "result"
    TEXT = "text"
    EVIDENCE = "evidence"

    @property
    def label(self) -> str:
        return {
            "created": "등록",
            "transition": "상태 변경",
            "assignment": "담당 부서 지정",
            "due_date": "기한 변경",
            "result": "조치결과 수정",
            "text": "요구사항 수정",
            "evidence": "증빙자료",
        }[self.value]


class History(db.Model):
    """An append-only record of everything that happened to a recommendation.

    State changes carry ``to_state``; edits carry the field with its old and new
    value, so any earlier version of an item can be rebuilt. Rows are never
    updated or deleted: the ORM refuses it and the database triggers below too.
    """

    __tablename__ = "history"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('created', 'transition', 'assignment', 'due_date', 'result', 'text', 'evidence')",
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


class HistoryIsAppendOnly(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_history_changes(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, History) and (obj in session.deleted or session.is_modified(obj)):
            raise HistoryIsAppendOnly("history rows are never changed or deleted")


# The same guard in the database, for anything that bypasses the ORM.
make_append_only(History.__table__, "history is append-only")
