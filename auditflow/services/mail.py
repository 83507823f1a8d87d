"""The e-mail outbox: claiming a message, handing it to the SMTP server, recording what came of it.

Each step is its own short transaction, run by ``auditflow.jobs`` (never a database
transaction held open across the network):

1. ``claim``: one sender, and only one, moves a due message from pending to sending;
2. ``send``: the message goes to the SMTP server (``AUDITFLOW_SMTP_*``);
3. ``record_sent`` or ``record_failure``: every try is an ``EmailAttempt`` row; a failed
   message waits for its next try (30 s, 1 min, 2 min, … doubling) or, after the last,
   is marked failed.

A message is sent at most once per claim, and claimed again only after a failure or
when its sender vanished mid-send (``release_stale``). Its Message-ID is fixed by its
row, so a mail client shows a copy sent twice in that one window once.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from auditflow.extensions import db
from auditflow.models import EmailAttempt, EmailMessage, utcnow
from auditflow.services.notifications import organisation
from auditflow.vocabulary import Delivery

STALE_CLAIM = timedelta(minutes=10)  # a sender that has not finished by then has died


class SendFailed(Exception):
    """The SMTP server could not be reached or refused the message."""


@dataclass(frozen=True)
class Outgoing:
    id: int
    to: str
    subject: str
    body: str
    message_id: str
    sender: str


def claim(message_id: int, now: datetime | None = None) -> Outgoing | None:
    """Take a due pending message for sending; None when it is not there to take."""
    now = now or utcnow()
    taken = db.session.execute(
        update(EmailMessage)
        .where(EmailMessage.id == message_id, EmailMessage.status == Delivery.PENDING.value,
               EmailMessage.next_attempt_at <= now)
        .values(status=Delivery.SENDING.value, claimed_at=now,
                attempts=EmailMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:
        return None
    message = db.session.get(EmailMessage, message_id, populate_existing=True)
    assert message is not None
    mail_from = current_app.config["MAIL_FROM"]
    domain = mail_from.rpartition("@")[2] or "localhost"
    digest = hashlib.sha256(message.dedup_key.encode()).hexdigest()[:16]
    return Outgoing(
        id=message.id,
        to=message.to_address,
        subject=message.subject,
        body=message.body,
        message_id=f"<auditflow.{message.id}.{digest}@{domain}>",
        sender=formataddr((f"{organisation()} 행정사무감사", mail_from), charset="utf-8"),
    )


def send(outgoing: Outgoing, config: Any | None = None) -> None:
    """Hand ``outgoing`` to the SMTP server, or raise ``SendFailed``."""
    config = config or current_app.config
    # Korean headers as RFC 2047 words cut by ``Header``: the newer policy's folding
    # drops the space where it cuts between two encoded words ("주관 부서" → "주관부서").
    mime = MIMEText(outgoing.body, "plain", "utf-8")
    mime["From"] = outgoing.sender
    mime["To"] = outgoing.to
    headers: Any = mime  # typeshed types header values as str; Header is what keeps the spaces
    headers["Subject"] = Header(outgoing.subject, "utf-8")
    mime["Date"] = formatdate(localtime=True)
    mime["Message-ID"] = outgoing.message_id
    try:
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"],
                          timeout=config["SMTP_TIMEOUT"]) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
            smtp.send_message(mime)
    except (OSError, smtplib.SMTPException) as exc:
        raise SendFailed(f"{type(exc).__name__}: {exc}"[:480]) from exc


def record_sent(message_id: int) -> None:
    now = utcnow()
    message = _row(message_id)
    message.status = Delivery.SENT.value
    message.sent_at = now
    db.session.add(EmailAttempt(message_id=message_id, at=now, ok=True, detail="sent"))
    db.session.flush()


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` tries: the first delay, doubling."""
    first = float(current_app.config["MAIL_RETRY_DELAY"])
    return first * (1 << max(attempts - 1, 0))


def record_failure(message_id: int, error: str) -> datetime | None:
    """Note a failed try; return when to try again, or None when it was the last."""
    now = utcnow()
    message = _row(message_id)
    db.session.add(EmailAttempt(message_id=message_id, at=now, ok=False, detail=error[:500]))
    if message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        message.status = Delivery.FAILED.value
        db.session.flush()
        return None
    message.status = Delivery.PENDING.value
    message.next_attempt_at = now + timedelta(seconds=retry_delay(message.attempts))
    db.session.flush()
    return message.next_attempt_at


def due(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Pending messages whose time has come (for the sweep that nothing is lost)."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(EmailMessage.id)
        .where(EmailMessage.status == Delivery.PENDING.value, EmailMessage.next_attempt_at <= now)
        .order_by(EmailMessage.id).limit(limit)))


def release_stale(now: datetime | None = None) -> int:
    """Messages whose sender died mid-send go back to pending. Returns how many."""
    now = now or utcnow()
    released = db.session.execute(
        update(EmailMessage)
        .where(EmailMessage.status == Delivery.SENDING.value,
               EmailMessage.claimed_at < now - STALE_CLAIM)
        .values(status=Delivery.PENDING.value, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(released, "rowcount", 0) or 0)


def _row(message_id: int) -> EmailMessage:
    message = db.session.get(EmailMessage, message_id, populate_existing=True)
    if message is None:
        raise LookupError(f"no e-mail message {message_id}")
    return message
