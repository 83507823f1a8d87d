"""How many password checks a login gets: a lock per login and address, a delay per login.

A check is counted *before* it is made, in one statement that also decides whether it
may be made at all (an upsert of the ``login_throttle`` row with a condition, returning
the row only when the attempt is let through). Twenty parallel guesses therefore get at
most ``LOGIN_MAX_FAILURES`` checks between them, on SQLite (the statement holds the
write lock) as on PostgreSQL (it holds the row), and none is lost.

- Per login and address: ``LOGIN_MAX_FAILURES`` checks in a row without a success lock
  that pair for ``LOGIN_LOCK_MINUTES``. Somebody elsewhere who guesses locks themselves
  out, not the owner.
- Per login, from every address: past ``LOGIN_MAX_FAILURES`` checks in a row, each
  further check waits a delay that doubles from one second up to
  ``LOGIN_DELAY_MAX_SECONDS``. Guessing from many addresses stays slow; an address that
  signed in to this login before is spared the delay (the owner's own computer).
- A success clears both for that login (and marks the address as the owner's).

The counting runs in a short transaction of its own, committed at once on a connection
of its own: it must hold whatever the request does afterwards (a refused sign-in is not
an error of the request), and no database lock is held while the hash is checked. What
the request records (``login_attempt``, clearing the counts after a success) goes with
its own commit. The rows are keyed by the login as typed, so an unknown login is counted
and locked like a real one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Connection, and_, case, delete, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from auditflow import dates
from auditflow.errors import DomainError
from auditflow.extensions import db
from auditflow.models import EVERY_ADDRESS, LoginThrottle, UTCDateTime, utcnow

ADDRESS_MAX = 64  # the width of login_throttle.remote_addr
UNKNOWN_ADDRESS = "unknown"

THROTTLE = LoginThrottle.__table__


class SignInRefused(DomainError):
    code = "login_failed"
    message = "아이디 또는 비밀번호가 올바르지 않습니다."
    status = 401


class Locked(SignInRefused):
    """This address gave the wrong password too often for this login: locked for a while."""

    code = "account_locked"

    def __init__(self, until: datetime, failures: int) -> None:
        super().__init__(
            f"비밀번호를 {failures}회 잘못 입력하여 이 접속 위치에서의 로그인이 잠겼습니다. "
            f"{dates.local(until):%H:%M} 이후에 다시 시도하세요."
        )
        self.until = until


class Delayed(SignInRefused):
    """Too many wrong passwords for this login from everywhere: the next check waits."""

    code = "login_delayed"

    def __init__(self, seconds: int) -> None:
        super().__init__(
            f"이 아이디로 잘못된 비밀번호가 여러 번 입력되어 로그인을 잠시 제한합니다. "
            f"{seconds}초 후에 다시 시도하세요."
        )
        self.seconds = seconds


@dataclass(frozen=True)
class Admission:
    """An attempt let through to the password check."""

    attempts: int  # checks of this login from this address since its last success
    locked_until: datetime | None  # set when this was the last check before the lock


def max_failures() -> int:
    return int(current_app.config["LOGIN_MAX_FAILURES"])


def lock_minutes() -> int:
    return int(current_app.config["LOGIN_LOCK_MINUTES"])


def delay_max_seconds() -> int:
    return int(current_app.config["LOGIN_DELAY_MAX_SECONDS"])


def address_key(remote_addr: str | None) -> str:
    return (remote_addr or "")[:ADDRESS_MAX] or UNKNOWN_ADDRESS


def admit(login: str, remote_addr: str | None, now: datetime | None = None) -> Admission:
    """Count one check of ``login`` from ``remote_addr``, or refuse it (``Locked``,
    ``Delayed``) without counting. Committed before it returns."""
    now = now or utcnow()
    address = address_key(remote_addr)
    with db.engine.begin() as connection:
        pair = connection.execute(_admit_pair(connection, login, address, now)).first()
        if pair is None:
            until = _locked_until(connection, login, address)
            raise Locked(until or now, max_failures())
        if pair.signed_in_at is None:
            every = connection.execute(_admit_every_address(connection, login, now)).first()
            if every is None:
                until = _locked_until(connection, login, EVERY_ADDRESS) or now
                # Raised inside the transaction: the pair's count is rolled back with it.
                raise Delayed(max(1, math.ceil((until - now).total_seconds())))
    return Admission(attempts=pair.attempts, locked_until=pair.locked_until)


def forgive(login: str, remote_addr: str | None, now: datetime | None = None) -> None:
    """The right password: the counts of this login start again, and this address is the
    owner's. Flushed with the request (the caller commits)."""
    now = now or utcnow()
    address = address_key(remote_addr)
    db.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.login == login,
               LoginThrottle.remote_addr.in_([address, EVERY_ADDRESS]))
        .values(attempts=0, locked_until=None, updated_at=now,
                signed_in_at=case((LoginThrottle.remote_addr == address, now),
                                  else_=LoginThrottle.signed_in_at))
        .execution_options(synchronize_session=False)
    )


def unlock(login: str) -> None:
    """An administrator lifts every lock and delay of ``login`` (the owner's addresses stay)."""
    db.session.execute(
        update(LoginThrottle).where(LoginThrottle.login == login)
        .values(attempts=0, locked_until=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def locked_logins(now: datetime | None = None) -> dict[str, datetime]:
    """Logins locked somewhere or delayed now, with the latest end of their locks."""
    now = now or utcnow()
    rows = db.session.execute(
        select(LoginThrottle.login, LoginThrottle.locked_until)
        .where(LoginThrottle.locked_until > now)
    )
    locked: dict[str, datetime] = {}
    for login, until in rows:
        if until is not None:
            locked[login] = max(until, locked.get(login, until))
    return locked


def sweep(now: datetime | None = None, *, idle: timedelta = timedelta(days=1)) -> int:
    """Forget the counts nothing has touched for ``idle`` and that hold no running lock nor
    an owner's address (guesses at unknown logins would pile up). Returns how many."""
    now = now or utcnow()
    result = db.session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.updated_at < now - idle,
            LoginThrottle.signed_in_at.is_(None),
            or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _locked_until(connection: Connection, login: str, address: str) -> datetime | None:
    until: datetime | None = connection.scalar(
        select(THROTTLE.c.locked_until)
        .where(THROTTLE.c.login == login, THROTTLE.c.remote_addr == address)
    )
    return until


def _insert(connection: Connection) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(THROTTLE)


def _moment(value: datetime | None) -> Any:
    return literal(value, UTCDateTime())


def _admit_pair(connection: Connection, login: str, address: str, now: datetime) -> Any:
    """Let a check through unless this pair is locked; the check that reaches the limit
    sets the lock (a success clears it). A lock that has ended starts the count again."""
    limit = max_failures()
    lock_end = now + timedelta(minutes=lock_minutes())
    column = THROTTLE.c
    ended = and_(column.locked_until.is_not(None), column.locked_until <= _moment(now))
    attempts = case((ended, 1), else_=column.attempts + 1)
    statement = _insert(connection).values(
        login=login, remote_addr=address, attempts=1,
        locked_until=lock_end if limit <= 1 else None, updated_at=now)
    return statement.on_conflict_do_update(
        index_elements=[column.login, column.remote_addr],
        set_={"attempts": attempts,
              "locked_until": case((attempts >= limit, _moment(lock_end)), else_=_moment(None)),
              "updated_at": _moment(now)},
        where=or_(column.attempts < limit, ended),
    ).returning(column.attempts, column.locked_until, column.signed_in_at)


def _admit_every_address(connection: Connection, login: str, now: datetime) -> Any:
    """Let a check through unless the login's delay runs; past the limit each check
    sets the next delay: 1, 2, 4 … seconds, at most ``LOGIN_DELAY_MAX_SECONDS``."""
    limit, longest = max_failures(), delay_max_seconds()
    column = THROTTLE.c
    steps: list[tuple[Any, Any]] = []
    seconds, extra = 1, 0
    while True:
        steps.append((column.attempts >= limit + extra,
                      _moment(now + timedelta(seconds=min(seconds, longest)))))
        if seconds >= longest:
            break
        seconds, extra = seconds * 2, extra + 1
    delay = case(*reversed(steps), else_=_moment(None))
    statement = _insert(connection).values(
        login=login, remote_addr=EVERY_ADDRESS, attempts=1, locked_until=None, updated_at=now)
    return statement.on_conflict_do_update(
        index_elements=[column.login, column.remote_addr],
        set_={"attempts": column.attempts + 1, "locked_until": delay,
              "updated_at": _moment(now)},
        where=or_(column.locked_until.is_(None), column.locked_until <= _moment(now)),
    ).returning(column.attempts)
