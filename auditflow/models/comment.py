from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditflow.extensions import Model
from auditflow.models.base import UTCDateTime, utcnow
from auditflow.models.user import User


class Comment(Model):
    """A message between the audit team and the assigned teams about one recommendation."""

    __tablename__ = "comment"
    __table_args__ = (Index("ix_comment_recommendation_id", "recommendation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendation.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship()
