"""A sign-in half done: the password was right, the second factor is still to come.

The signed session cookie holds who gave the password, when, and where to go after;
nobody is signed in yet (Flask-Login knows nothing of it). The step expires after
``PENDING_MINUTES``; signing in (``sessions.start``) clears it with the rest of the session.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import session

from auditflow.extensions import db
from auditflow.models import User, utcnow

PENDING_USER = "auth_pending_user"
PENDING_AT = "auth_pending_at"
PENDING_NEXT = "auth_pending_next"
PENDING_MINUTES = 5


@dataclass(frozen=True)
class Pending:
    user: User
    target: str


def begin(user: User, target: str) -> None:
    """The password was right: remember it on a fresh session, for the next step only."""
    session.clear()
    session[PENDING_USER] = user.id
    session[PENDING_AT] = utcnow().timestamp()
    session[PENDING_NEXT] = target


def current() -> Pending | None:
    """The sign-in under way in this browser, or None (none, expired, or the user gone)."""
    user_id, started = session.get(PENDING_USER), session.get(PENDING_AT)
    if not isinstance(user_id, int) or not isinstance(started, int | float):
        return None
    if utcnow().timestamp() - started > PENDING_MINUTES * 60:
        clear()
        return None
    query = db.select(User).where(User.id == user_id, User.active.is_(True))
    # Locked on PostgreSQL until the request commits: two codes at once are checked in turn.
    user = db.session.scalars(query.with_for_update()).first()
    if user is None:
        clear()
        return None
    return Pending(user, str(session.get(PENDING_NEXT) or ""))


def clear() -> None:
    for key in (PENDING_USER, PENDING_AT, PENDING_NEXT):
        session.pop(key, None)
