from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditflow.extensions import Model
from auditflow.models.base import UTCDateTime, utcnow
from auditflow.models.user import User

if TYPE_CHECKING:
    from auditflow.models.recommendation import Recommendation


class Evidence(Model):
    """A file a team uploaded as evidence of its action.

    The bytes live in the storage folder under ``storage_key``, a random name; the
    original name is kept exactly as the user gave it. A new upload under the same
    name is a new version; older versions stay.
    """

    __tablename__ = "evidence"
    __table_args__ = (
        UniqueConstraint(
            "recommendation_id", "original_name", "version", name="uq_evidence_name_version"
        ),
        CheckConstraint("size >= 0", name="ck_evidence_size"),
        CheckConstraint("version > 0", name="ck_evidence_version"),
        CheckConstraint(
            "(deleted_at IS NULL) = (deleted_by_id IS NULL)", name="ck_evidence_deleted_by"
        ),
        Index("ix_evidence_recommendation_id", "recommendation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendation.id"))
    original_name: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(default=1)
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(100))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    recommendation: Mapped[Recommendation] = relationship(back_populates="evidence")
    uploaded_by: Mapped[User] = relationship(foreign_keys=[uploaded_by_id])

    def __repr__(self) -> str:
        return f"<Evidence {self.original_name} v{self.version}>"
