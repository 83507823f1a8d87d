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
    # The second factor (services/second_factor.py): the TOTP secret (base32), set when
    # enrolment begins and in use once a code confirmed it; the time step of the latest
    # code accepted, so the same code is not accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column()
    # Wrong codes in a row, apart from the password's counts (services/lockout.py), which the
    # right password resets: the password must not buy an endless supply of guesses at the code.
    totp_failures: Mapped[int] = mapped_column(default=0)
    # Too many wrong codes lock the code step of this account (from every address: whoever
    # guesses codes holds the password already) until then.
    totp_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

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

    @property
    def has_second_factor(self) -> bool:
        """An authenticator app is enrolled (a code confirmed it): sign-in asks for its code."""
        return self.totp_secret is not None and self.totp_confirmed_at is not None

    def needs_second_factor(self) -> bool:
        """Whether this user's role is one that must sign in with a second factor."""
        return permissions.needs_second_factor(self.role)

    def __repr__(self) -> str:
        return f"<User {self.login} {self.role}>"
