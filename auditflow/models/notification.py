from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditflow.extensions import Model
from auditflow.models.base import UTCDateTime, sql_in, utcnow
from auditflow.models.recommendation import Recommendation
from auditflow.models.user import User
from auditflow.vocabulary import Delivery, NotificationKind


class Notification(Model):
    """Something a user should know, shown in the app (the bell) until read."""

    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_in(NotificationKind)})", name="ck_notification_kind"),
        # One digest per user and day, however often the daily run runs.
        UniqueConstraint("user_id", "digest_day", name="uq_notification_digest_day"),
        Index("ix_notification_user_read", "user_id", "read_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(20))
    recommendation_id: Mapped[int | None] = mapped_column(ForeignKey("recommendation.id"))
    digest_day: Mapped[date | None]  # the day of a daily digest
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    recommendation: Mapped[Recommendation | None] = relationship()

    @property
    def kind_enum(self) -> NotificationKind:
        return NotificationKind(self.kind)


class EmailMessage(Model):
    """An e-mail in the outbox: written in the transaction of what it tells, sent after it.

    ``dedup_key`` makes a message unique (one per notification), so a repeated run
    writes nothing new; ``status`` is claimed by one sender at a time.
    """

    __tablename__ = "email_message"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_in(Delivery)})", name="ck_email_message_status"),
        Index("ix_email_message_status", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(120), unique=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=Delivery.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
    tries: Mapped[list[EmailAttempt]] = relationship(back_populates="message",
                                                     order_by="EmailAttempt.id")


class EmailAttempt(Model):
    """Every try to hand a message to the SMTP server: when, and what came of it."""

    __tablename__ = "email_attempt"
    __table_args__ = (Index("ix_email_attempt_message", "message_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("email_message.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(String(500), default="")

    message: Mapped[EmailMessage] = relationship(back_populates="tries")


class NotificationPreference(Model):
    """A user's choice not to get one kind of notification by e-mail (in the app it always shows)."""

    __tablename__ = "notification_preference"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_in(NotificationKind)})",
                        name="ck_notification_preference_kind"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
