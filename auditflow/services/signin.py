"""Checking a login and password: every check counted first, every attempt recorded.

The rules:

- an unknown login and a wrong password get the same answer, and take the same
  time (a dummy hash is checked), and an unknown login is counted and locked like a
  real one, so the page does not tell which logins exist;
- a check is counted and admitted before it is made (``services.lockout``): after
  ``LOGIN_MAX_FAILURES`` wrong passwords in a row from one address that login is
  locked *from that address* for ``LOGIN_LOCK_MINUTES`` (even the right password is
  refused there), and past that many from everywhere each further check waits a
  growing delay, which the owner's own address is spared; a success clears both;
- at most ``PASSWORD_HASH_CONCURRENCY`` checks run at once in a process
  (``passwords.hashing_slot``); the address's sign-ins per minute are limited by
  ``http.throttle`` before any of this;
- every attempt is a ``LoginAttempt`` row and a log line; the password never
  appears in either.

The request flushes what it records and commits it (a refused sign-in answers 200);
the counts are committed by ``lockout.admit`` itself, before the check.
"""

from __future__ import annotations

import logging
from typing import NoReturn

from flask import current_app
from sqlalchemy import select

from auditflow.extensions import db
from auditflow.models import AccessKind, LoginAttempt, User
from auditflow.services import lockout, passwords
from auditflow.services.access_log import record_access
from auditflow.services.lockout import Delayed as SignInDelayed
from auditflow.services.lockout import Locked as AccountLocked
from auditflow.services.lockout import SignInRefused

__all__ = ["AccountInactive", "AccountLocked", "SignInDelayed", "SignInRefused",
           "authenticate", "lock_minutes", "max_failures", "normalise_login", "record_attempt"]

log = logging.getLogger("auditflow.auth")

LOGIN_MAX = 64  # the width of user_account.login and login_attempt.login


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
    return db.session.scalars(select(User).where(User.login == login)).first()


def authenticate(login: str | None, password: str | None, remote_addr: str | None) -> User:
    """The active user with this login and password, or a ``SignInRefused``."""
    login = normalise_login(login)
    password = password or ""
    with passwords.hashing_slot():
        user = check_password(login, password, remote_addr, reason="bad_password")
        if passwords.needs_rehash(user.password_hash or ""):
            # Parameters were raised since this hash was made: upgrade it while we hold it.
            user.password_hash = passwords.hash_password(password)
    if not user.active:
        _record(login, remote_addr, success=False, reason="inactive")
        raise AccountInactive()
    lockout.forgive(login, remote_addr)
    _record(login, remote_addr, success=True, reason=None)
    db.session.flush()
    return user


def check_password(login: str, password: str, remote_addr: str | None, *,
                   reason: str) -> User:
    """The user whose password this is, once the check was admitted; else the refusal
    (``reason`` is what a wrong password is recorded as). Call it in a hashing slot."""
    key = login[:LOGIN_MAX]  # a longer login is no account's, and is counted by its start
    try:
        admitted = lockout.admit(key, remote_addr)
    except SignInRefused as refused:
        _record(login, remote_addr, success=False,
                reason="locked" if isinstance(refused, AccountLocked) else "delayed")
        raise
    user = find_user(login) if login and len(login) <= LOGIN_MAX else None
    if user is None:
        passwords.burn_time(password)
        _refuse(login, remote_addr, admitted, "unknown_login")
    if not passwords.verify_password(user.password_hash, password):
        _refuse(login, remote_addr, admitted, reason, user)
    return user


def _refuse(login: str, remote_addr: str | None, admitted: lockout.Admission,
            reason: str, user: User | None = None) -> NoReturn:
    _record(login, remote_addr, success=False, reason=reason)
    if admitted.locked_until is not None:
        log.warning("sign-in locked: login=%r addr=%s until=%s", login, remote_addr,
                    admitted.locked_until.isoformat())
        record_access(AccessKind.ACCOUNT_LOCKED, user=user, login=login, success=False,
                      remote_addr=remote_addr,
                      detail=f"until {admitted.locked_until.isoformat()}")
        raise AccountLocked(admitted.locked_until, max_failures())
    raise SignInRefused()


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
