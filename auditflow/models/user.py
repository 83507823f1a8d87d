from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditflow import permissions
from auditflow.extensions import Model
from auditflow.models.base import UTCDateTime, sql_in, utcnow
from auditflow.models.organisation import OrgUnit
from auditflow.permissions import Capability
from auditflow.vocabulary import Role


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(Model):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(
            f"role IN ({sql_in(Role)})", name="ck_user_account_role"
        ),
        CheckConstraint(
            "role <> 'department' OR team_id IS NOT NULL", name="ck_user_account_department_team"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    email: Mapped[str | None] = mapped_column(String(254))
    # A department user who answers for the team's follow-up: escalations reach them too.
    is_manager: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Rotated at logout, password change and deactivation: a copied cookie then stops working.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[OrgUnit | None] = relationship()

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    def can(self, capability: Capability) -> bool:
        """Whether this user may do ``capability``: an active user whose role grants it."""
        return bool(self.active) and permissions.grants(self.role, capability)

    # Flask-Login's user protocol. The session holds ``session_token``, not the
    # id, so rotating the token ends every session of this user at once.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_token

    def end_sessions(self) -> None:
        """Rotate the session token: every cookie issued so far stops signing anyone in."""
        self.session_token = new_session_token()

    def __repr__(self) -> str:
        return f"<User {self.login} {self.role}>"
