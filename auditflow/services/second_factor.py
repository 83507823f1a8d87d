"""The second factor: a time-based one-time code (TOTP, RFC 6238) and recovery codes.

- Who must have one: ``REQUIRE_SECOND_FACTOR`` on (production's default) and a role that
  administers users or reviews results (``permissions.needs_second_factor``). Anyone else
  may enrol too; once enrolled, sign-in always asks for the code.
- Enrolment: a new secret is kept on the user, unconfirmed, and shown as a QR code drawn
  here (segno, no outside service) and as text; the first right code confirms it and makes
  ten recovery codes, shown once and kept only as SHA-256 hashes.
- A code is accepted for its 30-second step and one step either side (clocks drift), and
  only once: the step of the latest accepted code is kept, and a code of that step or an
  earlier one is refused. A recovery code works once.
- ``LOGIN_MAX_FAILURES`` wrong codes in a row lock the account for ``LOGIN_LOCK_MINUTES``,
  as wrong passwords do; they are counted apart (``User.totp_failures``), since the right
  password resets the password's count. Every check is a sign-in attempt row
  (``signin.record_attempt``).
- An administrator may reset another user's second factor (a lost phone); the reset is
  recorded (``record``) and ends that user's sessions.

Operations flush, never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, NoReturn

import pyotp
import segno
from flask import current_app
from sqlalchemy import delete, func, select

from auditflow import dates
from auditflow.errors import DomainError
from auditflow.extensions import db
from auditflow.models import RecoveryCode, User, utcnow
from auditflow.services import signin

log = logging.getLogger("auditflow.auth")

RECOVERY_CODES = 10
# Codes read "ab3d-7fgh-k2mn": 12 characters of an alphabet without look-alikes (60 bits).
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_GROUPS = 3
RECOVERY_GROUP = 4
# One step either side of now: a phone's clock a little off still works.
VALID_WINDOW = 1
CODE_DIGITS = 6

Method = Literal["totp", "recovery"]


class CodeRefused(DomainError):
    code = "second_factor_wrong"
    message = ("인증 코드가 올바르지 않습니다. 인증 앱에 지금 표시된 6자리 숫자나 "
               "복구 코드를 다시 확인하세요.")
    status = 401


class CodeReused(CodeRefused):
    code = "second_factor_reused"
    message = "이미 사용한 인증 코드입니다. 인증 앱에 다음 코드가 표시되면 그 코드를 입력하세요."


class NotEnrolled(DomainError):
    code = "second_factor_not_enrolled"
    message = "2단계 인증이 등록되어 있지 않습니다."
    status = 409


class AlreadyEnrolled(DomainError):
    code = "second_factor_enrolled"
    message = "2단계 인증이 이미 등록되어 있습니다. 새 기기로 바꾸려면 시스템 관리자에게 초기화를 요청하세요."
    status = 409


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the QR code and the same secret as text."""

    secret: str
    uri: str
    qr_data_uri: str

    @property
    def secret_groups(self) -> str:
        """The secret in groups of four, easier to type into an app by hand."""
        return " ".join(self.secret[i:i + 4] for i in range(0, len(self.secret), 4))


def required(user: User) -> bool:
    """Whether ``user`` may not sign in without a second factor."""
    return bool(current_app.config["REQUIRE_SECOND_FACTOR"]) and user.needs_second_factor()


def asked(user: User) -> bool:
    """Whether sign-in takes a second step for ``user``: a code, or enrolment first."""
    return user.has_second_factor or required(user)


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=CODE_DIGITS)


def begin_enrolment(user: User) -> Enrolment:
    """The secret to enrol: the one already begun (a reloaded page shows the same QR code)."""
    if user.has_second_factor:
        raise AlreadyEnrolled()
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        db.session.flush()
    uri = _totp(user.totp_secret).provisioning_uri(
        name=user.login, issuer_name=current_app.config["SECOND_FACTOR_ISSUER"])
    qr = segno.make(uri, error="m")
    return Enrolment(user.totp_secret, uri, qr.png_data_uri(scale=5, border=2))


def confirm_enrolment(user: User, code: str | None, remote_addr: str | None) -> list[str]:
    """The first right code puts the secret in use; returns the new recovery codes (shown once)."""
    if user.has_second_factor:
        raise AlreadyEnrolled()
    if not user.totp_secret:
        raise NotEnrolled()
    refuse_if_locked(user, remote_addr)
    step = _matching_step(user.totp_secret, _digits(code))
    if step is None:
        _refuse(user, remote_addr, "bad_enrolment_code", CodeRefused())
    user.totp_confirmed_at = utcnow()
    user.totp_last_step = step
    user.totp_failures = 0
    codes = new_recovery_codes(user)
    signin.record_attempt(user.login, remote_addr, success=True, reason="second_factor_enrolled")
    record("second_factor_enrolled", user, actor=user)
    return codes


def verify(user: User, code: str | None, remote_addr: str | None) -> Method:
    """Check a code from the app or a recovery code; refuse with ``CodeRefused`` otherwise.

    A locked account is refused before any code is looked at.
    """
    if not user.has_second_factor:
        raise NotEnrolled()
    now = utcnow()
    refuse_if_locked(user, remote_addr)
    digits = _digits(code)
    if len(digits) == CODE_DIGITS:
        step = _matching_step(user.totp_secret or "", digits)
        if step is None:
            _refuse(user, remote_addr, "bad_second_factor", CodeRefused())
        if user.totp_last_step is not None and step <= user.totp_last_step:
            _refuse(user, remote_addr, "second_factor_reused", CodeReused())
        user.totp_last_step = step
        method: Method = "totp"
    else:
        used = _recovery_code(user, code)
        if used is None:
            _refuse(user, remote_addr, "bad_recovery_code", CodeRefused())
        used.used_at = now
        method = "recovery"
    user.totp_failures = 0
    signin.record_attempt(user.login, remote_addr, success=True, reason=f"second_factor_{method}")
    db.session.flush()
    return method


def new_recovery_codes(user: User) -> list[str]:
    """Ten new recovery codes for ``user``; the old ones stop working. Returned once, in clear."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(code)) for code in codes)
    db.session.flush()
    return codes


def recovery_codes_left(user: User) -> int:
    return int(db.session.scalar(
        select(func.count()).select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0)


def reset(user: User, *, actor: User | None) -> None:
    """Take ``user``'s second factor away (a lost phone): they enrol again at their next sign-in.

    Their sessions end, so a session opened with the lost device does not outlive it.
    """
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    user.totp_failures = 0
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.end_sessions()
    db.session.flush()
    record("second_factor_reset", user, actor=actor)


def record(event: str, user: User, *, actor: User | None) -> None:
    """The one place a second-factor event is recorded (the security log for now).

    When the access log lands (``record_access``), this is the call to change.
    """
    log.warning("%s: login=%r by=%r", event, user.login,
                actor.login if actor is not None else "cli")


def _digits(code: str | None) -> str:
    """What people type, without the spaces some apps show in the middle of the code."""
    return "".join((code or "").split())


def _matching_step(secret: str, digits: str) -> int | None:
    """The time step whose code is ``digits`` (now, or one step either side), or None."""
    if len(digits) != CODE_DIGITS or not digits.isdigit():
        return None
    totp = _totp(secret)
    now = utcnow()
    current = totp.timecode(now)
    matched = None
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        # Compare every step in constant time; keep the latest match.
        if hmac.compare_digest(totp.generate_otp(step), digits):
            matched = step
    return matched


def _recovery_code(user: User, code: str | None) -> RecoveryCode | None:
    normal = _normal_recovery(code)
    if not normal:
        return None
    return db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                   RecoveryCode.code_hash == _hash(normal),
                                   RecoveryCode.used_at.is_(None))
        .with_for_update()
    ).first()


def _normal_recovery(code: str | None) -> str:
    """The code without spaces, hyphens or capitals, as it was hashed; '' when not one."""
    raw = "".join(ch for ch in (code or "").lower() if ch not in " -")
    if len(raw) != RECOVERY_GROUPS * RECOVERY_GROUP or any(c not in RECOVERY_ALPHABET for c in raw):
        return ""
    return raw


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUPS * RECOVERY_GROUP))
    return "-".join(raw[i:i + RECOVERY_GROUP] for i in range(0, len(raw), RECOVERY_GROUP))


def _hash(normal: str) -> str:
    return hashlib.sha256(normal.replace("-", "").encode()).hexdigest()


class CodeLocked(signin.SignInRefused):
    """Too many wrong codes for this account, from any address: its sign-in waits a while."""

    code = "account_locked"

    def __init__(self, until: datetime, failures: int) -> None:
        super().__init__(
            f"인증 코드를 {failures}회 잘못 입력하여 계정이 잠겼습니다. "
            f"{dates.local(until):%H:%M} 이후에 다시 시도하세요."
        )
        self.until = until


def _count_failure(user: User) -> datetime | None:
    """One wrong code more; at ``LOGIN_MAX_FAILURES`` the account is locked (the end returned)."""
    user.totp_failures = (user.totp_failures or 0) + 1
    if user.totp_failures < signin.max_failures():
        db.session.flush()
        return None
    user.totp_failures = 0
    until = utcnow() + timedelta(minutes=signin.lock_minutes())
    user.totp_locked_until = until
    db.session.flush()
    log.warning("account locked (second factor): login=%r until=%s", user.login,
                until.isoformat())
    return until


def forgive(user: User) -> None:
    """An administrator's reset of the password lifts the code step's lock too."""
    user.totp_failures = 0
    user.totp_locked_until = None


def refuse_if_locked(user: User, remote_addr: str | None) -> None:
    """Wrong codes locked the code step: the sign-in is refused, the right password too."""
    until = user.totp_locked_until
    if until is not None and until > utcnow():
        signin.record_attempt(user.login, remote_addr, success=False, reason="locked")
        raise CodeLocked(until, signin.max_failures())


def _refuse(user: User, remote_addr: str | None, reason: str, error: DomainError) -> NoReturn:
    """Count a wrong code toward the lockout, record it, and raise (locked now, or ``error``)."""
    locked_until = _count_failure(user)
    signin.record_attempt(user.login, remote_addr, success=False, reason=reason)
    if locked_until is not None:
        raise CodeLocked(locked_until, signin.max_failures())
    raise error
