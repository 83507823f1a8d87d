"""Checking a login and password: lockout after repeated failures, every attempt recorded.

The rules:

- an unknown login and a wrong password get the same answer, and take the same
  time (a dummy hash is checked), so the page does not tell which logins exist;
- ``LOGIN_MAX_FAILURES`` wrong passwords in a row lock that account for
  ``LOGIN_LOCK_MINUTES``; while locked even the right password is refused; a
  success resets the count. Failures for unknown logins lock nothing;
- every attempt is a ``LoginAttempt`` row and a log line; the password never
  appears in either.

Operations flush; the request commits (a refused sign-in answers 200, so the
attempt and the counter are kept).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from auditflow import dates
from auditflow.errors import DomainError
from auditflow.extensions import db
from auditflow.models import AccessKind, LoginAttempt, User, utcnow
from auditflow.services import passwords
from auditflow.services.access_log import record_access

log = logging.getLogger("auditflow.auth")

LOGIN_MAX = 64  # the width of user_account.login and login_attempt.login


class SignInRefused(DomainError):
    code = "login_failed"
    message = "아이디 또는 비밀번호가 올바르지 않습니다."
    status = 401


class AccountLocked(SignInRefused):
    code = "account_locked"

    def __init__(self, until: datetime, failures: int) -> None:
        local = dates.local(until)
        super().__init__(
            f"비밀번호를 {failures}회 잘못 입력하여 계정이 잠겼습니다. "
            f"{local:%H:%M} 이후에 다시 시도하세요."
        )
        self.until = until


class AccountInactive(SignInRefused):
    # Only said to someone who gave the right password: it tells nothing to a guesser.
    code = "account_inactive"
    message = "사용이 중지된 계정입니다. 시스템 관리자에게 문의하세요."


def normalise_login(login: str | None) -> str:
    """Logins are stored in lower case; what people type may have spaces or capitals."""
    return (login or "").strip().lower()


def max_failures() -> int:
    return int(current_app.config["LOGIN_MAX_FAILURES"])


def lock_minutes() -> int:
    return int(current_app.config["LOGIN_LOCK_MINUTES"])


def find_user(login: str) -> User | None:
    query = select(User).where(User.login == login)
    # On PostgreSQL the row stays locked until the request commits, so parallel
    # guesses at one account are counted one after the other, none lost.
    return db.session.scalars(query.with_for_update()).first()


def authenticate(login: str | None, password: str | None, remote_addr: str | None) -> User:
    """The active user with this login and password, or a ``SignInRefused``."""
    login = normalise_login(login)
    password = password or ""
    now = utcnow()
    user = find_user(login) if login and len(login) <= LOGIN_MAX else None

    if user is None:
        passwords.burn_time(password)
        _record(login, remote_addr, success=False, reason="unknown_login")
        raise SignInRefused()

    if user.is_locked(now):
        _record(login, remote_addr, success=False, reason="locked")
        raise AccountLocked(user.locked_until, max_failures())  # type: ignore[arg-type]

    if not passwords.verify_password(user.password_hash, password):
        locked_until = register_failure(user, now)
        _record(login, remote_addr, success=False, reason="bad_password")
        if locked_until is not None:
            raise AccountLocked(locked_until, max_failures())
        raise SignInRefused()

    if not user.active:
        _record(login, remote_addr, success=False, reason="inactive")
        raise AccountInactive()

    user.failed_logins = 0
    user.locked_until = None
    if passwords.needs_rehash(user.password_hash or ""):
        # Parameters were raised since this hash was made: upgrade it while we hold the password.
        user.password_hash = passwords.hash_password(password)
    _record(login, remote_addr, success=True, reason=None)
    db.session.flush()
    return user


def register_failure(user: User, now: datetime | None = None) -> datetime | None:
    """Count one wrong password; lock the account when the count is reached.

    Returns the end of the lock when this failure locked the account. The count
    starts again from zero after a lock, so the next lock needs as many failures.
    """
    now = now or utcnow()
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins < max_failures():
        db.session.flush()
        return None
    user.failed_logins = 0
    user.locked_until = now + timedelta(minutes=lock_minutes())
    db.session.flush()
    log.warning("account locked: login=%r until=%s", user.login, user.locked_until.isoformat())
    record_access(AccessKind.ACCOUNT_LOCKED, user=user, success=False, detail=f"until {user.locked_until.isoformat()}")
    return user.locked_until


def _record(login: str, remote_addr: str | None, *, success: bool, reason: str | None) -> None:
    db.session.add(
        LoginAttempt(login=login[:LOGIN_MAX], success=success, reason=reason,
                     remote_addr=(remote_addr or "")[:64] or None)
    )
    record_access(AccessKind.SIGN_IN if success else AccessKind.SIGN_IN_FAILED, login=login[:LOGIN_MAX], success=success, detail=reason, remote_addr=remote_addr)
    # %r escapes control characters, so a crafted login cannot forge log lines.
    if success:
        log.info("sign-in ok: login=%r addr=%s", login[:LOGIN_MAX], remote_addr)
    else:
        log.warning("sign-in refused: login=%r reason=%s addr=%s", login[:LOGIN_MAX], reason,
                    remote_addr)


def record_attempt(login: str, remote_addr: str | None, *, success: bool, reason: str | None) -> None:
    """Record a password check made elsewhere (e.g. the current password when changing it)."""
    _record(login, remote_addr, success=success, reason=reason)
