"""The signed-in session: Flask-Login on one server-side session per sign-in, with idle
and absolute limits.

Flask keeps the session in a signed cookie. By default a copy of that cookie
would keep working after logout, so the cookie does not name the user: it holds
the secret of a ``UserSession`` row (``auditflow.services.user_sessions``), made
for this sign-in on this device. Logout ends that row; a password change, a reset
and a deactivation end all of the user's rows; the user may end their other
devices on "로그인 기기". A copied cookie then names a session that has ended.
Signing in again, even in the same browser, makes a new row (a new identifier)
and ends the one the browser had.

The session also carries when the user signed in and when they were last seen;
``_enforce_limits`` ends it after ``SESSION_IDLE_MINUTES`` without a request or
``SESSION_MAX_HOURS`` after sign-in, whichever comes first. An expired session
ends in the browser that holds it, without touching the database: the signed
cookie carries the times that expired it, so neither it nor any copy of it can
sign anybody in again, and the user's sessions in other browsers keep their own
limits. The row keeps the same limits (its sign-in time and when it was last
seen, noted at most once a minute and committed with the request's answer).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import AnonymousUserMixin, current_user, login_url, login_user, logout_user

from auditflow.extensions import login_manager
from auditflow.http.errors import wants_json
from auditflow.http.navigation import return_path
from auditflow.models import User, UserSession, utcnow
from auditflow.permissions import Capability
from auditflow.services import user_sessions

log = logging.getLogger("auditflow.auth")

LOGIN_AT = "auth_login_at"  # epoch seconds (UTC) of the sign-in
USER_ID = "_user_id"  # Flask-Login's key: here the secret of this device's UserSession
_DEVICE = "auditflow_device_session"  # g: the UserSession this request signed in with
_UNREAD = "auditflow_unread_at_start"  # g: its user's unread notifications, read with it
SEEN_AT = "auth_seen_at"  # epoch seconds (UTC) of the latest request, noted once a minute

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


def load_user(secret: str) -> User | None:
    found = user_sessions.find(secret)
    if found is None:
        return None
    setattr(g, _DEVICE, found.row)
    setattr(g, _UNREAD, found.unread)
    return found.row.user


def unread_read_with_session() -> int | None:
    """The signed-in user's unread notifications, counted when the session was read at the
    start of this request: still true while the request reads only (GET, HEAD; marking
    notifications read is a POST). None when the request may have changed them, or no
    session was read."""
    if request.method not in ("GET", "HEAD"):
        return None
    unread: int | None = g.get(_UNREAD)
    return unread


def current_device() -> UserSession | None:
    """The session (device) this request is signed in with, if any."""
    if not current_user.is_authenticated:  # loads the user, and with it the row
        return None
    row: UserSession | None = g.get(_DEVICE)
    return row


def start(user: User) -> None:
    """Sign ``user`` in on a new session of its own: nothing set before sign-in survives it.

    The one step from "this person has proven who they are" to "signed in": it makes
    the server-side session and tells Flask-Login. The browser's earlier session, if
    it had one, ends (its cookie, and copies of it, stop working).
    """
    earlier = current_device()
    if earlier is not None:
        user_sessions.end(earlier, "new_sign_in")
    _sign_in(user, _now())


def renew(user: User) -> None:
    """After all of this user's sessions were ended (own password change): keep this browser
    signed in, on a new session.

    The sign-in time is kept, so renewing does not extend the absolute lifetime.
    """
    login_at = session.get(LOGIN_AT, _now())
    _sign_in(user, login_at if isinstance(login_at, int | float) else _now())


def _sign_in(user: User, login_at: float) -> None:
    signed_in_at = datetime.fromtimestamp(login_at, UTC)
    row, secret = user_sessions.open_session(
        user, user_agent=request.headers.get("User-Agent"), address=request.remote_addr,
        signed_in_at=signed_in_at)
    session.clear()
    login_user(user, remember=False)
    # The cookie names this sign-in's session, not the user (see User.get_id).
    session[USER_ID] = secret
    setattr(g, _DEVICE, row)
    session[LOGIN_AT] = login_at
    session[SEEN_AT] = _now()


def end(user: User | None = None) -> None:
    """Sign out here: end this device's session (copies of the cookie stop working) and
    empty the browser's session. The user's other devices stay signed in."""
    row = current_device()
    if row is not None and (user is None or row.user_id == user.id):
        user_sessions.end(row, "logout")
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
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    since_login = now - login_at if isinstance(login_at, int | float) else None
    since_seen = now - seen_at if isinstance(seen_at, int | float) else None
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    lifetime = current_app.config["SESSION_MAX_HOURS"] * 3600
    if (since_login is not None and since_seen is not None
            and since_seen <= idle and since_login <= lifetime):
        # Noted at most once a minute, as the device's row is: the cookie is then signed and
        # sent again once a minute, not with every answer. The idle limit counts from the
        # note, here and in the page's warning (seconds_left), so both say the same.
        if since_seen >= user_sessions.SEEN_RESOLUTION.total_seconds():
            session[SEEN_AT] = now
        row = current_device()
        if row is not None:
            user_sessions.seen(row)
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
