"""Sessions per device: one ``UserSession`` row per sign-in, found by the cookie's secret.

Each sign-in makes its own row with a new random secret (the cookie holds the secret,
the row its SHA-256). A row is active while it has not been ended and is within the
idle limit (``SESSION_IDLE_MINUTES`` since it was last seen, noted at most once a
minute) and the absolute lifetime (``SESSION_MAX_HOURS`` since sign-in). The user
sees their active rows ("로그인 기기") and may end any but the one they use. Services
flush, never commit.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, delete, or_, select
from sqlalchemy.orm import contains_eager

from auditflow.errors import DomainError, NotFound
from auditflow.extensions import db
from auditflow.models import User, UserSession, utcnow
from auditflow.services import notifications

# Writing last_seen_at on every request would make every read a write; once a minute tells
# enough (the idle limit allows for it).
SEEN_RESOLUTION = timedelta(minutes=1)
SECRET_BYTES = 32
# A session's row (its device summary and address) is kept this long after it ended, for
# whoever asks what happened; the access log keeps the sign-ins themselves for years.
ENDED_KEPT = timedelta(days=30)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _idle() -> timedelta:
    return timedelta(minutes=int(current_app.config["SESSION_IDLE_MINUTES"]))


def _lifetime() -> timedelta:
    return timedelta(hours=int(current_app.config["SESSION_MAX_HOURS"]))


def _is_live(row: UserSession, now: datetime) -> bool:
    return (row.ended_at is None
            and now - row.created_at <= _lifetime()
            and now - row.last_seen_at <= _idle() + SEEN_RESOLUTION)


def open_session(user: User, *, user_agent: str | None, address: str | None,
                 signed_in_at: datetime | None = None) -> tuple[UserSession, str]:
    """A new session of ``user`` on this device; returns the row and the cookie's secret.

    ``signed_in_at`` carries the sign-in time over when a session is renewed (after the
    user's own password change), so renewing never extends the absolute lifetime.
    """
    secret = secrets.token_urlsafe(SECRET_BYTES)
    now = utcnow()
    row = UserSession(user=user, secret_hash=hash_secret(secret),
                      created_at=signed_in_at or now, last_seen_at=now,
                      user_agent=describe_agent(user_agent),
                      address=address[:45] if address else None)
    db.session.add(row)
    db.session.flush()
    return row, secret


@functools.cache
def _find_statement() -> Any:
    """The session with its user and the user's unread notifications (the bell every page
    shows): one statement per request, not three, built once."""
    unread = notifications.unread_of(User.id).correlate(User).scalar_subquery()
    return (select(UserSession, unread).join(UserSession.user)
            .options(contains_eager(UserSession.user))
            .where(UserSession.secret_hash == bindparam("secret_hash"),
                   UserSession.ended_at.is_(None), User.active.is_(True)))


@dataclass(frozen=True)
class Found:
    """An active session, and its user's unread notifications when it was read."""

    row: UserSession
    unread: int


def find(secret: str) -> Found | None:
    """The active session the secret opens, of an active user, with the user's unread
    notifications counted in the same statement; None otherwise."""
    if not secret or len(secret) > 128:
        return None
    hit = db.session.execute(_find_statement(), {"secret_hash": hash_secret(secret)}).first()
    if hit is None or not _is_live(hit[0], utcnow()):
        return None
    return Found(row=hit[0], unread=int(hit[1] or 0))


def seen(row: UserSession) -> None:
    """Note that the session was used now (written at most once a minute)."""
    now = utcnow()
    if now - row.last_seen_at >= SEEN_RESOLUTION:
        row.last_seen_at = now
        db.session.flush()


def end(row: UserSession, reason: str) -> None:
    if row.ended_at is None:
        row.ended_at = utcnow()
        row.end_reason = reason
        db.session.flush()


def active_of(user: User) -> list[UserSession]:
    """The user's active sessions, the latest used first."""
    now = utcnow()
    rows = db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None),
               UserSession.created_at >= now - _lifetime(),
               UserSession.last_seen_at >= now - _idle() - SEEN_RESOLUTION)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()
    return [row for row in rows if _is_live(row, now)]


def end_one(user: User, session_id: int, *, current: UserSession | None) -> UserSession:
    """End one of the user's own other sessions (404 for anybody else's or an ended one)."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user.id or not _is_live(row, utcnow()):
        raise NotFound("종료할 로그인 기기를 찾을 수 없습니다. 이미 로그아웃되었을 수 있습니다.",
                       code="session_not_found")
    if current is not None and row.id == current.id:
        raise DomainError("지금 사용 중인 기기는 여기서 종료할 수 없습니다. 로그아웃을 누르세요.",
                          code="session_is_current")
    end(row, "ended_by_user")
    return row


def purge(now: datetime | None = None) -> int:
    """Remove the rows of sessions over for ``ENDED_KEPT``: ended then, or past their
    lifetime since (an idle one is past it within ``SESSION_MAX_HOURS``). Returns how many."""
    now = now or utcnow()
    result = db.session.execute(
        delete(UserSession).where(or_(UserSession.ended_at < now - ENDED_KEPT,
                                      UserSession.created_at < now - _lifetime() - ENDED_KEPT))
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def end_others(user: User, *, current: UserSession | None) -> int:
    """End every active session of the user but ``current``; return how many were ended."""
    others = [row for row in active_of(user) if current is None or row.id != current.id]
    user.end_sessions("ended_by_user", keep=current)
    db.session.flush()
    return len(others)


_BROWSERS = (
    ("Whale/", "웨일"), ("Edg/", "엣지"), ("EdgA/", "엣지"), ("SamsungBrowser/", "삼성 인터넷"),
    ("OPR/", "오페라"), ("Firefox/", "파이어폭스"), ("FxiOS/", "파이어폭스"),
    ("CriOS/", "크롬"), ("Chrome/", "크롬"), ("Safari/", "사파리"),
)
_SYSTEMS = (
    (re.compile(r"Windows"), "Windows"), (re.compile(r"iPhone|iPad|iPod"), "iOS"),
    (re.compile(r"Android"), "Android"), (re.compile(r"Mac OS X|Macintosh"), "macOS"),
    (re.compile(r"CrOS"), "ChromeOS"), (re.compile(r"Linux"), "Linux"),
)


def describe_agent(user_agent: str | None) -> str:
    """A short Korean summary of the browser and system ('크롬 · Windows'), not the raw header."""
    agent = user_agent or ""
    browser = next((name for mark, name in _BROWSERS if mark in agent), None)
    system = next((name for pattern, name in _SYSTEMS if pattern.search(agent)), None)
    parts = [part for part in (browser, system) if part]
    return " · ".join(parts) if parts else "알 수 없는 기기"
