from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from auditflow.extensions import Model
from auditflow.models.base import UTCDateTime, utcnow

# The ``remote_addr`` of the row that counts a login's attempts from every address.
EVERY_ADDRESS = ""


class LoginThrottle(Model):
    """How many password checks a login was given since its last success, from one address
    (the lock) or from every address (``remote_addr`` = ``EVERY_ADDRESS``: the delay).

    Rows are keyed by the login as typed (normalised), not by the account, so an unknown
    login is counted and locked exactly like a real one and the answers do not tell them
    apart. ``services.signin`` counts an attempt here, in one statement, before its check.
    """

    __tablename__ = "login_throttle"
    __table_args__ = (
        UniqueConstraint("login", "remote_addr", name="uq_login_throttle_login_remote_addr"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64))
    remote_addr: Mapped[str] = mapped_column(String(64))
    # Checks let through since the last success (counted before the check is made).
    attempts: Mapped[int] = mapped_column(default=0)
    # Per address: locked until then. Every address: no check before then (the delay).
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last success from this address: the owner's own address, which the delay spares.
    signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
