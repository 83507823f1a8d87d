from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditflow.extensions import Model
from auditflow.models.base import UTCDateTime, sql_in, utcnow
from auditflow.models.recommendation import Recommendation
from auditflow.models.user import User
from auditflow.vocabulary import ExtensionState


class DueDateExtension(Model):
    """An assigned team's request to move an item's due date (기한 연장 요청).

    ``state`` is changed only by the extension workflow (``auditflow.workflow``); the
    due date the item had when asked is kept, so the original date is never lost.
    """

    __tablename__ = "due_date_extension"
    __table_args__ = (
        CheckConstraint(f"state IN ({sql_in(ExtensionState)})", name="ck_due_date_extension_state"),
        CheckConstraint("state = 'pending' OR decided_at IS NOT NULL",
                        name="ck_due_date_extension_decided"),
        # One open request per item at a time.
        Index("uq_due_date_extension_pending", "recommendation_id", unique=True,
              sqlite_where=text("state = 'pending'"), postgresql_where=text("state = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendation.id"))
    state: Mapped[str] = mapped_column(String(20), default=ExtensionState.PENDING.value)
    previous_due: Mapped[date | None]  # the item's due date when the team asked
    requested_due: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)

    recommendation: Mapped[Recommendation] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def state_enum(self) -> ExtensionState:
        return ExtensionState(self.state)
