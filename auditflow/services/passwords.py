"""Password hashing (argon2id) and the Korean public-sector password rule."""

from __future__ import annotations

import contextlib
import re
import secrets
import string
import threading
from collections.abc import Iterator
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from auditflow.errors import DomainError

# Long enough for any passphrase; bounds the work one request can ask of the hasher.
MAX_LENGTH = 128

# The three kinds the rule counts. Symbols are ASCII punctuation only: a Hangul
# syllable or a space adds length but is not a "special character" (특수문자).
KIND_PATTERNS = (r"[A-Za-z]", r"[0-9]", "[" + re.escape(string.punctuation) + "]")


class WeakPassword(DomainError):
    code = "password_weak"
    message = (
        "비밀번호는 영문·숫자·특수문자 중 3종류 이상으로 9자 이상, "
        "또는 2종류 이상으로 10자 이상이어야 합니다."
    )


class PasswordTooLong(DomainError):
    code = "password_too_long"
    message = f"비밀번호는 {MAX_LENGTH}자 이하로 입력하세요."


class HashingBusy(DomainError):
    """More sign-ins at once than this process checks: the rest wait briefly, then this."""

    code = "too_busy"
    status = 429
    message = "로그인 요청이 많아 지금은 처리할 수 없습니다. 잠시 후 다시 시도하세요."


def kinds(password: str) -> int:
    return sum(bool(re.search(pattern, password)) for pattern in KIND_PATTERNS)


def check_rule(password: str) -> None:
    if len(password) > MAX_LENGTH:
        raise PasswordTooLong()
    count = kinds(password)
    if not ((len(password) >= 9 and count >= 3) or (len(password) >= 10 and count >= 2)):
        raise WeakPassword()


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hasher() -> PasswordHasher:
    """argon2id with the application's parameters (``PASSWORD_HASH_*``, see ``auditflow.config``)."""
    config = current_app.config
    return _hasher(config["PASSWORD_HASH_TIME_COST"], config["PASSWORD_HASH_MEMORY_KIB"],
                   config["PASSWORD_HASH_PARALLELISM"])


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Spend the same time as a real check, so an answer's speed does not
        # tell whether the account exists or has a password.
        burn_time(password)
        return False
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the stored hash was made with other parameters than the application's."""
    try:
        return hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash(secrets.token_urlsafe(16))


def burn_time(password: str) -> None:
    """Do the work of one verification for a login that does not exist."""
    with contextlib.suppress(VerificationError, InvalidHashError):
        hasher().verify(_dummy_hash(hasher()), password)


_SLOTS = "auditflow.password_hash_slots"
_SLOTS_LOCK = threading.Lock()


@contextlib.contextmanager
def hashing_slot() -> Iterator[None]:
    """Hold one of the ``PASSWORD_HASH_CONCURRENCY`` checks this process makes at once.

    A burst of sign-ins then takes at most that many cores (argon2id is slow on purpose)
    and the other pages keep answering; a sign-in that waits longer than
    ``PASSWORD_HASH_WAIT_SECONDS`` for a slot gets ``HashingBusy`` (429).
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _SLOTS_LOCK:
        slots = app.extensions.get(_SLOTS)
        if slots is None:
            slots = app.extensions[_SLOTS] = threading.BoundedSemaphore(
                int(app.config["PASSWORD_HASH_CONCURRENCY"]))
    if not slots.acquire(timeout=float(app.config["PASSWORD_HASH_WAIT_SECONDS"])):
        raise HashingBusy()
    try:
        yield
    finally:
        slots.release()


def generate() -> str:
    """A random password that meets the rule (letters, digits and a symbol)."""
    alphabet = string.ascii_letters + string.digits
    body = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{body}-{secrets.choice(string.digits)}{secrets.choice(string.ascii_letters)}"
