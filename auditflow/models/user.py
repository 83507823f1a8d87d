from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, update
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from auditflow import permissions
from auditflow.extensions import Model
from auditflow.models.base import UTCDateTime, sql_in, utcnow
from auditflow.models.organisation import OrgUnit
from auditflow.permissions import Capability
from auditflow.vocabulary import Role


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

    # Flask-Login's user protocol. The cookie holds the secret of one UserSession (one
    # sign-in on one device), never the id: auditflow.http.sessions.start puts it there.
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
        # What Flask-Login's login_user would put in the cookie: no session's secret, so
        # a sign-in that bypasses auditflow.http.sessions.start signs nobody in.
        return f"user:{self.id}"

    def end_sessions(self, reason: str = "ended_all", *, keep: UserSession | None = None) -> None:
        """End every active session of this user (all devices), but ``keep`` if given.

        Password change, password reset and deactivation call it: every cookie issued
        so far stops signing anyone in.
        """
        session = object_session(self)
        assert session is not None  # a stored user
        statement = update(UserSession).where(UserSession.user_id == self.id,
                                              UserSession.ended_at.is_(None))
        if keep is not None:
            statement = statement.where(UserSession.id != keep.id)
        session.execute(statement.values(ended_at=utcnow(), end_reason=reason),
                        execution_options={"synchronize_session": "fetch"})

    @property
    def has_second_factor(self) -> bool:
        """An authenticator app is enrolled (a code confirmed it): sign-in asks for its code."""
        return self.totp_secret is not None and self.totp_confirmed_at is not None

    def needs_second_factor(self) -> bool:
        """Whether this user's role is one that must sign in with a second factor."""
        return permissions.needs_second_factor(self.role)

    def __repr__(self) -> str:
        return f"<User {self.login} {self.role}>"


class UserSession(Model):
    """One sign-in on one device: the server side of a session cookie.

    The cookie holds a random secret; only its SHA-256 is kept here, so the table
    read by somebody else signs nobody in. Each sign-in makes a new row (a new
    identifier); logout ends its own row, a password change, a reset and a
    deactivation end all of the user's. ``last_seen_at`` is noted at most once a
    minute. The idle and absolute limits apply to the row as to the cookie.
    """

    __tablename__ = "user_session"
    __table_args__ = (
        CheckConstraint("(ended_at IS NULL) = (end_reason IS NULL)",
                        name="ck_user_session_end_reason"),
        Index("ix_user_session_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the sign-in
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_agent: Mapped[str] = mapped_column(String(100))  # a summary: browser and system
    address: Mapped[str | None] = mapped_column(String(45))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # logout | new_sign_in | ended_by_user | ended_all
    end_reason: Mapped[str | None] = mapped_column(String(20))

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<UserSession {self.id} of user {self.user_id}>"
