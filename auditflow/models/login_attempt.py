from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from auditflow.extensions import Model
from auditflow.models.base import UTCDateTime, utcnow


class LoginAttempt(Model):
    """Every sign-in attempt, successful or not. The password is never recorded."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_login_at", "login", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    success: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(40))  # e.g. bad_password, locked, inactive
    remote_addr: Mapped[str | None] = mapped_column(String(64))
