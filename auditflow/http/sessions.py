"""The signed-in session: Flask-Login on a rotating per-user token, with idle and absolute limits.

Flask keeps the session in a signed cookie. By default a copy of that cookie
would keep working after logout, so the cookie does not name the user: it
holds ``User.session_token``, which is replaced at logout, password change and
deactivation. A copied cookie then names a token nobody has any more.

The session also carries when the user signed in and when they were last seen;
``_enforce_limits`` ends it after ``SESSION_IDLE_MINUTES`` without a request or
``SESSION_MAX_HOURS`` after sign-in, whichever comes first. An expired session
ends in the browser that holds it, without touching the database: the signed
cookie carries the times that expired it, so neither it nor any copy of it can
sign anybody in again, and the user's sessions in other browsers keep their own
limits. Logout, a password change and deactivation end every session at once by
rotating the token.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import AnonymousUserMixin, current_user, login_url, login_user, logout_user
from sqlalchemy import select

from auditflow.extensions import db, login_manager
from auditflow.http.errors import wants_json
from auditflow.http.navigation import return_path
from auditflow.models import User, utcnow
from auditflow.permissions import Capability

log = logging.getLogger("auditflow.auth")

LOGIN_AT = "auth_login_at"  # epoch seconds (UTC) of the sign-in
SEEN_AT = "auth_seen_at"  # epoch seconds (UTC) of the latest request

IDLE_MESSAGE = "장시간 사용하지 않아 로그아웃되었습니다."
LOGIN_MESSAGE = "로그인이 필요합니다. 아이디와 비밀번호를 입력하세요."


class AnonymousUser(AnonymousUserMixin):
    """Signed out. Templates may ask for ``name``/``team`` or ``can(...)`` without checking first."""

    role = None
    name = ""
    login = ""
    team = None
    team_id = None

    def can(self, capability: Capability) -> bool:
        return False


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = LOGIN_MESSAGE
    login_manager.login_message_category = "info"
    login_manager.anonymous_user = AnonymousUser
    # "basic": a changed address or browser marks the session not fresh. "strong"
    # would sign people out whenever their address changes behind a proxy.
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(_to_sign_in)
    app.before_request(_enforce_limits)


def load_user(token: str) -> User | None:
    if not token:
        return None
    return db.session.scalars(
        select(User).where(User.session_token == token, User.active.is_(True))
    ).first()


def start(user: User) -> None:
    """Sign ``user`` in on a fresh session: nothing set before sign-in survives it."""
    session.clear()
    login_user(user, remember=False)
    now = _now()
    session[LOGIN_AT] = now
    session[SEEN_AT] = now


def renew(user: User) -> None:
    """After this user's token was rotated (own password change): keep this browser signed in.

    The sign-in time is kept, so renewing does not extend the absolute lifetime.
    """
    login_at = session.get(LOGIN_AT, _now())
    session.clear()
    login_user(user, remember=False)
    session[LOGIN_AT] = login_at
    session[SEEN_AT] = _now()


def end(user: User | None = None) -> None:
    """Sign out: rotate the token (so copies of the cookie stop working) and empty the session."""
    user = user if user is not None else _signed_in_user()
    if user is not None:
        user.end_sessions()
        db.session.flush()
    logout_user()
    session.clear()


def _signed_in_user() -> User | None:
    user = current_user._get_current_object()
    return user if isinstance(user, User) else None


def _now() -> float:
    return utcnow().timestamp()


def seconds_left() -> int:
    """Until this session ends if nothing more is asked: the idle or the absolute limit."""
    now = _now()
    idle_ends = session.get(SEEN_AT, now) + current_app.config["SESSION_IDLE_MINUTES"] * 60
    lifetime_ends = session.get(LOGIN_AT, now) + current_app.config["SESSION_MAX_HOURS"] * 3600
    return max(0, int(min(idle_ends, lifetime_ends) - now))


def _is_static(endpoint: str | None) -> bool:
    return endpoint is None or endpoint == "static" or endpoint.endswith(".static")


def _enforce_limits() -> ResponseReturnValue | None:
    """End a session that has been idle or alive too long; otherwise note this request."""
    if _is_static(request.endpoint) or "_user_id" not in session:
        return None
    now = _now()
    login_at = session.get(LOGIN_AT)
    seen_at = session.get(SEEN_AT)
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    lifetime = current_app.config["SESSION_MAX_HOURS"] * 3600
    fresh = (
        isinstance(login_at, int | float)
        and isinstance(seen_at, int | float)
        and now - seen_at <= idle
        and now - login_at <= lifetime
    )
    if fresh:
        session[SEEN_AT] = now
        return None
    user = _signed_in_user()
    if user is not None:
        log.info("session expired: login=%r", user.login)
    logout_user()
    session.clear()
    if wants_json():
        return None  # signed out now: the API answers its own 401 in JSON
    flash(IDLE_MESSAGE, "warning")
    return _sign_in_redirect()


def _to_sign_in() -> ResponseReturnValue:
    """A page asked for while signed out: sign in first, then come back."""
    flash(LOGIN_MESSAGE, "info")
    return _sign_in_redirect()


def _sign_in_redirect() -> ResponseReturnValue:
    target = return_path()
    if target is None:
        return redirect(url_for("auth.login"))
    return redirect(login_url("auth.login", next_url=target))
