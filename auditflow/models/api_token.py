from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditflow.extensions import Model
from auditflow.models.base import UTCDateTime, utcnow
from auditflow.models.user import User
from auditflow.vocabulary import TokenScope


class ApiToken(Model):
    """A personal access token for the JSON API, acting as its user with that user's rights.

    Only the SHA-256 of the secret is kept; the token is shown once, when it is made, and
    afterwards known by its prefix. A read token answers reads only.
    """

    __tablename__ = "api_token"
    __table_args__ = (
        CheckConstraint("scope IN ('read', 'write')", name="ck_api_token_scope"),
        Index("ix_api_token_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(10), default=TokenScope.READ.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def scope_enum(self) -> TokenScope:
        return TokenScope(self.scope)

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now

    def __repr__(self) -> str:
        return f"<ApiToken {self.prefix} {self.scope}>"
