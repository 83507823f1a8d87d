"""Password hashing (argon2id) and the Korean public-sector password rule."""

from __future__ import annotations

import re
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from auditflow.errors import DomainError

# argon2-cffi's RFC 9106 low-memory profile: argon2id, t=3, m=64 MiB, p=4 —
# above OWASP's minimum (m=19 MiB, t=2, p=1).
HASHER = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4)


class WeakPassword(DomainError):
    code = "password_weak"
    message = (
        "비밀번호는 영문·숫자·특수문자 중 3종류 이상으로 9자 이상, "
        "또는 2종류 이상으로 10자 이상이어야 합니다."
    )


def kinds(password: str) -> int:
    return sum(
        bool(re.search(pattern, password))
        for pattern in (r"[A-Za-z]", r"[0-9]", r"[^A-Za-z0-9\s]")
    )


def check_rule(password: str) -> None:
    count = kinds(password)
    if not ((len(password) >= 9 and count >= 3) or (len(password) >= 10 and count >= 2)):
        raise WeakPassword()


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate() -> str:
    """A random password that meets the rule (letters, digits and a symbol)."""
    alphabet = string.ascii_letters + string.digits
    body = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{body}-{secrets.choice(string.digits)}{secrets.choice(string.ascii_letters)}"
