"""Password hashing (argon2id) and the password rule.

The rule (``check_rule``) is the Korean public-sector one (kinds and length,
``check_composition``), and on top of it a password must not be guessable: zxcvbn
(Dropbox's estimator, which knows common passwords, words, names, dates, keyboard
patterns and repeats) must score it 3 or more out of 4, counting the user's own
login, name and e-mail as words a guesser knows, and it must not hold the login or
the name themselves.
"""

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
from zxcvbn import zxcvbn

from auditflow.errors import DomainError

# Long enough for any passphrase; bounds the work one request can ask of the hasher.
MAX_LENGTH = 128

# The three kinds the rule counts. Symbols are ASCII punctuation only: a Hangul
# syllable or a space adds length but is not a "special character" (특수문자).
KIND_PATTERNS = (r"[A-Za-z]", r"[0-9]", "[" + re.escape(string.punctuation) + "]")

# zxcvbn's scores: 3 is "safely unguessable: moderate protection from an offline attack"
# (about 10^8 guesses and more), the score its authors advise as a minimum.
MIN_SCORE = 3
# A login, a name or an e-mail's part shorter than this is too common a fragment to refuse.
MIN_PERSONAL = 3
ZXCVBN_MAX = 72


# What the forms say before anyone types.
RULE_HINT = (
    "영문·숫자·특수문자 중 3종류 이상으로 9자 이상, 또는 2종류 이상으로 10자 이상. "
    "흔히 쓰이거나 추측하기 쉬운 비밀번호와 아이디·이름이 들어간 비밀번호는 쓸 수 없습니다."
)


class WeakPassword(DomainError):
    code = "password_weak"
    message = (
        "비밀번호는 영문·숫자·특수문자 중 3종류 이상으로 9자 이상, "
        "또는 2종류 이상으로 10자 이상이어야 합니다."
    )


class GuessablePassword(DomainError):
    code = "password_guessable"
    message = (
        "흔히 쓰이거나 추측하기 쉬운 비밀번호입니다. 잘 알려진 단어·날짜·키보드 배열·"
        "반복되는 글자를 피하고, 서로 관계없는 단어를 섞어 더 길게 만드세요."
    )


class PersonalPassword(DomainError):
    code = "password_personal"
    message = "아이디·이름·메일 주소가 들어간 비밀번호는 쓸 수 없습니다."


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


def check_composition(password: str) -> None:
    """The Korean rule alone: 3 kinds and 9 characters, or 2 kinds and 10."""
    if len(password) > MAX_LENGTH:
        raise PasswordTooLong()
    count = kinds(password)
    if not ((len(password) >= 9 and count >= 3) or (len(password) >= 10 and count >= 2)):
        raise WeakPassword()


def _own_values(login: str | None, name: str | None, email: str | None) -> list[str]:
    """The login, the name and the mailbox (the address's own part: its domain is the body's)."""
    mailbox = (email or "").partition("@")[0]
    values = (re.sub(r"\s+", "", (value or "").lower()) for value in (login, name, mailbox))
    return [value for value in values if len(value) >= MIN_PERSONAL and not value.isdigit()]


def personal_words(*, login: str | None = None, name: str | None = None,
                   email: str | None = None) -> list[str]:
    """What a guesser knows of this person, for zxcvbn: the login, name, mailbox and their parts."""
    words = _own_values(login, name, email)
    for value in (login, name, (email or "").partition("@")[0]):
        words.extend(part for part in re.split(r"[\s._-]+", (value or "").lower()) if part)
    return list(dict.fromkeys(word for word in words if len(word) >= MIN_PERSONAL))


def check_rule(password: str, *, login: str | None = None, name: str | None = None,
               email: str | None = None) -> None:
    """The whole rule: the Korean one, then not the person's own words, then not guessable."""
    check_composition(password)
    folded = re.sub(r"\s+", "", password.lower())
    if any(value in folded for value in _own_values(login, name, email)):
        raise PersonalPassword()
    words = personal_words(login=login, name=name, email=email)
    # zxcvbn reads at most 72 characters; a prefix that strong makes the whole at least as strong.
    if zxcvbn(password[:ZXCVBN_MAX], user_inputs=words)["score"] < MIN_SCORE:
        raise GuessablePassword()


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
