"""Personal access tokens of the JSON API: made by their user, revoked, checked on each request.

A token is ``af_`` and 40 random URL-safe characters. Only its SHA-256 is stored (a random
secret of that length needs no slow hash); the first characters, kept apart, name it on
the token page. It expires (``API_TOKEN_DAYS``, 90 by default) and is read-only or read-write.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from auditflow.errors import DomainError, NotFound
from auditflow.extensions import db
from auditflow.models import AccessKind, ApiToken, User, utcnow
from auditflow.services.access_log import record_access
from auditflow.vocabulary import TokenScope

PREFIX = "af_"
NAME_MAX = 100
MAX_DAYS = 366
# Writing last use on every request would make every read a write; once a minute tells enough.
LAST_USE_RESOLUTION = timedelta(minutes=1)


class TokenRefused(DomainError):
    status = 401
    code = "token_invalid"
    message = "액세스 토큰이 올바르지 않습니다."


@dataclass(frozen=True)
class Made:
    token: ApiToken
    secret: str  # shown once, never stored


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create(user: User, *, name: str, scope: str = TokenScope.READ.value,
           days: int | None = None, now: datetime | None = None) -> Made:
    if not user.active:
        raise DomainError("사용 중지된 사용자는 토큰을 만들 수 없습니다.", code="user_inactive")
    label = (name or "").strip()
    if not label:
        raise DomainError("토큰 이름을 입력하세요.", code="token_name_required")
    if len(label) > NAME_MAX:
        raise DomainError(f"토큰 이름은 {NAME_MAX}자 이하로 입력하세요.", code="token_name_too_long")
    try:
        chosen = TokenScope(scope)
    except ValueError:
        raise DomainError("권한 범위는 read 또는 write입니다.", code="token_scope_invalid") from None
    lifetime = current_app.config["API_TOKEN_DAYS"] if days is None else days
    if not 1 <= lifetime <= MAX_DAYS:
        raise DomainError(f"유효 기간은 1일에서 {MAX_DAYS}일 사이로 정하세요.",
                          code="token_days_invalid")
    secret = PREFIX + secrets.token_urlsafe(30)
    moment = now or utcnow()
    token = ApiToken(user=user, name=label, prefix=secret[:len(PREFIX) + 6],
                     secret_hash=digest(secret), scope=chosen.value, created_at=moment,
                     expires_at=moment + timedelta(days=lifetime))
    db.session.add(token)
    db.session.flush()
    record_access(AccessKind.TOKEN_CREATED, user=user, target=f"token {token.prefix}", detail=f"scope {token.scope}")
    return Made(token, secret)


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def revoke(user: User, token_id: int, now: datetime | None = None) -> ApiToken:
    """Revoke one of ``user``'s own tokens; anybody else's does not exist for them."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("토큰을 찾을 수 없습니다.", code="token_not_found")
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        db.session.flush()
        record_access(AccessKind.TOKEN_REVOKED, user=user, target=f"token {token.prefix}")
    return token


def authenticate(secret: str, now: datetime | None = None) -> ApiToken:
    """The token ``secret`` names, if it may be used now; its last use noted (not flushed)."""
    moment = now or utcnow()
    token = None
    if secret.startswith(PREFIX) and len(secret) < 200:
        token = db.session.scalars(
            select(ApiToken).where(ApiToken.secret_hash == digest(secret))).first()
    if token is None:
        raise TokenRefused()
    if token.revoked_at is not None:
        raise TokenRefused("폐기된 액세스 토큰입니다.", code="token_revoked")
    if token.expires_at <= moment:
        raise TokenRefused("만료된 액세스 토큰입니다. 새 토큰을 만드세요.", code="token_expired")
    if not token.user.active:
        raise TokenRefused("사용 중지된 사용자의 토큰입니다.", code="user_inactive")
    if token.last_used_at is None or moment - token.last_used_at >= LAST_USE_RESOLUTION:
        token.last_used_at = moment
    return token
