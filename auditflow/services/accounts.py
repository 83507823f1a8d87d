"""User accounts: create, edit, reset or change a password, deactivate, unlock.

Used by the admin pages, the own-password page and ``flask user``. Every
refusal is a ``DomainError`` with a stable code, a Korean message and the form
field it belongs to (``field``), so a page can show it next to that field.
Operations flush, never commit.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from auditflow.errors import DomainError, NotFound
from auditflow.extensions import db
from auditflow.korean import particle
from auditflow.models import AccessKind, OrgUnit, User
from auditflow.permissions import Capability, grants, needs_team, roles_with
from auditflow.services import lockout, passwords, second_factor, signin
from auditflow.services.access_log import record_access
from auditflow.vocabulary import Role, UnitKind

log = logging.getLogger("auditflow.auth")

LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
NAME_MAX = 100


class AccountError(DomainError):
    field: str | None = None

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 field: str | None = None) -> None:
        super().__init__(message, code=code)
        if field is not None:
            self.field = field


class AccountErrors(AccountError):
    """Several refusals at once (a form shows each next to its field). Code and message are
    the first one's, so the CLI's one line still names a stable code."""

    def __init__(self, errors: list[AccountError]) -> None:
        super().__init__(errors[0].message, code=errors[0].code, field=errors[0].field)
        self.errors = errors


def each(error: AccountError) -> list[AccountError]:
    """The single refusals inside ``error``."""
    return list(getattr(error, "errors", None) or [error])


class _Collector:
    """Run checks, keep going after a refusal, raise them together at the end."""

    def __init__(self) -> None:
        self.errors: list[AccountError] = []

    def check(self, function: Any, *args: Any) -> Any:
        try:
            return function(*args)
        except AccountError as error:
            self.errors.append(error)
            return None

    def raise_if_any(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise AccountErrors(self.errors)


class InvalidLogin(AccountError):
    code = "login_invalid"
    message = "아이디는 영문 소문자·숫자로 시작하고 영문 소문자, 숫자, 마침표(.), 하이픈(-), 밑줄(_)만 써서 2~64자로 입력하세요."
    field = "login"


class LoginTaken(AccountError):
    code = "login_taken"
    message = "이미 사용 중인 아이디입니다."
    field = "login"


class InvalidEmail(AccountError):
    code = "email_invalid"
    message = "메일 주소가 올바르지 않습니다. 예: hong@seoul.go.kr"
    field = "email"


class InvalidName(AccountError):
    code = "name_required"
    message = f"이름을 입력하세요 ({NAME_MAX}자 이하)."
    field = "name"


class InvalidRole(AccountError):
    code = "role_invalid"
    message = "역할은 " + ", ".join(f"{role.value}({role.label})" for role in Role) + " 중 하나여야 합니다."
    field = "role"


class TeamRequired(AccountError):
    code = "team_required"
    message = "부서 담당자는 소속 팀 또는 TF를 지정해야 합니다."
    field = "team"


class TeamNotFound(AccountError):
    code = "team_not_found"
    message = "그런 조직이 없습니다."
    field = "team"


class TeamNotAssignable(AccountError):
    code = "team_not_assignable"
    message = "본부에는 사용자를 소속시킬 수 없습니다. 팀 또는 TF를 고르세요."
    field = "team"


class LastAdmin(AccountError):
    code = "last_admin"
    message = "사용 중인 시스템 관리자가 적어도 한 명은 있어야 합니다."


class SelfChange(AccountError):
    code = "self_change"
    message = "본인 계정의 역할 변경·사용 중지·비밀번호 재설정·2단계 인증 초기화는 할 수 없습니다. 비밀번호는 '비밀번호 변경'에서 바꾸세요."


class WrongCurrentPassword(AccountError):
    code = "current_password_wrong"
    message = "현재 비밀번호가 올바르지 않습니다."
    field = "current_password"


class SamePassword(AccountError):
    code = "password_unchanged"
    message = "현재 비밀번호와 다른 비밀번호를 입력하세요."
    field = "new_password"


def _password_error(error: DomainError, field: str) -> AccountError:
    return AccountError(error.message, code=error.code, field=field)


@dataclass(frozen=True)
class UserRow:
    """One line of the user list."""

    user: User
    role_label: str
    team_name: str
    # The latest end of a lock or delay of this login, from any address, if one runs now.
    locked_until: datetime | None

    @property
    def locked(self) -> bool:
        return self.locked_until is not None


def get(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("사용자를 찾을 수 없습니다.", code="user_not_found")
    return user


def find(login: str | None) -> User | None:
    """The user with this login (as people type it), or None."""
    return db.session.scalars(select(User).where(User.login == signin.normalise_login(login))).first()


def listing() -> list[UserRow]:
    locked = lockout.locked_logins()
    order = {role.value: index for index, role in enumerate(Role)}
    users = db.session.scalars(select(User).order_by(User.login)).all()
    users = sorted(users, key=lambda user: (order.get(user.role, 99), user.login))
    return [
        UserRow(user, Role(user.role).label, user.team.name if user.team else "",
                locked.get(user.login))
        for user in users
    ]


def assignable_teams() -> list[OrgUnit]:
    """Teams and task forces, in the organisation's order: the units a user may belong to."""
    return list(db.session.scalars(
        select(OrgUnit).where(OrgUnit.kind != UnitKind.DIVISION.value)
        .order_by(OrgUnit.sort_order, OrgUnit.name)
    ))


def _login(raw: str | None) -> str:
    login = signin.normalise_login(raw)
    if not LOGIN_PATTERN.match(login):
        raise InvalidLogin()
    return login


def _name(raw: str | None) -> str:
    name = (raw or "").strip()
    if not name or len(name) > NAME_MAX:
        raise InvalidName()
    return name


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
EMAIL_MAX = 254


def _email(raw: str | None) -> str | None:
    """An address people can be written to, or None (notifications then stay in the app)."""
    email = (raw or "").strip()
    if not email:
        return None
    if len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email):
        raise InvalidEmail()
    return email


def _manager(asked: bool, role: Role) -> bool:
    """Managers are the team users escalations reach: only a team user can be one."""
    return asked and needs_team(role)


def _role(raw: str | None) -> Role:
    try:
        return Role(raw or "")
    except ValueError:
        raise InvalidRole() from None


def _team(role: Role | None, team: OrgUnit | str | None) -> OrgUnit | None:
    """The unit a user of ``role`` belongs to (``role`` None: not known, required or not)."""
    if isinstance(team, str):
        code = team.strip()
        team = None
        if code:
            team = db.session.scalars(select(OrgUnit).where(OrgUnit.code == code)).first()
            if team is None:
                raise TeamNotFound(f"'{code}' 조직이 없습니다.")
    if team is None:
        if needs_team(role):
            raise TeamRequired()
        return None
    if not team.is_assignable:
        raise TeamNotAssignable(f"'{team.name}'{particle(team.name, '은/는')} 본부입니다. 팀 또는 TF를 고르세요.")
    return team


def _check_password(password: str | None, field: str, *, login: str | None = None,
                    name: str | None = None, email: str | None = None) -> None:
    try:
        passwords.check_rule(password or "", login=login, name=name, email=email)
    except DomainError as error:
        raise _password_error(error, field) from None


def _new_password(password: str | None, user: User, field: str = "password") -> str:
    """The hash of ``user``'s new password, once it meets the rule (their own words refused)."""
    _check_password(password, field, login=user.login, name=user.name, email=user.email)
    return passwords.hash_password(password or "")


def validate_new(*, login: str | None, name: str | None, role: str | None,
                 team: OrgUnit | str | None, password: str | None = None,
                 check_password: bool = False, email: str | None = None,
                 ) -> tuple[str, str, Role, OrgUnit | None, str | None]:
    """Everything about a new user checked and normalised; every refusal at once.

    Returns (login, name, role, team, password hash); the hash only with ``check_password``.
    """
    checks = _Collector()
    login_ = checks.check(_login, login)
    name_ = checks.check(_name, name)
    role_ = checks.check(_role, role)
    unit = checks.check(_team, role_, team)
    checks.check(_email, email)
    if login_ and db.session.scalars(select(User.id).where(User.login == login_)).first():
        checks.errors.append(LoginTaken())
    # Hash last, and only when all else is right: argon2 is slow on purpose.
    hashed = None
    if check_password:
        try:
            _check_password(password, "password", login=login_ or login, name=name_ or name,
                            email=email)
        except AccountError as error:
            checks.errors.append(error)
        if not checks.errors:
            hashed = passwords.hash_password(password or "")
    checks.raise_if_any()
    return login_, name_, role_, unit, hashed


def create(*, login: str | None, name: str | None, role: str | None,
           team: OrgUnit | str | None, password: str | None, actor: User | None = None,
           email: str | None = None, is_manager: bool = False) -> User:
    """A new active user. ``team`` is an ``OrgUnit`` or its code."""
    login_, name_, role_, unit, hashed = validate_new(
        login=login, name=name, role=role, team=team, password=password, check_password=True,
        email=email)
    user = User(login=login_, name=name_, role=role_.value, team=unit, active=True,
                password_hash=hashed, email=_email(email),
                is_manager=_manager(is_manager, role_))
    db.session.add(user)
    db.session.flush()
    log.info("user created: login=%r role=%s by=%r", login_, role_.value, _who(actor))
    record_access(AccessKind.USER_CREATED, user=actor, login=_who(actor), target=f"user {login_}", detail=f"role {role_.value}")
    return user


def update(user: User, *, name: str | None, role: str | None, team: OrgUnit | str | None,
           actor: User, email: str | None = None, is_manager: bool = False) -> User:
    """Change name, role and team. The login never changes (history and attempts refer to it)."""
    checks = _Collector()
    name = checks.check(_name, name)
    role_ = checks.check(_role, role)
    unit = checks.check(_team, role_, team)
    address = checks.check(_email, email)
    checks.raise_if_any()
    if role_.value != user.role:
        if user.id == actor.id:
            raise SelfChange(field="role")
        if user.can(Capability.ADMINISTER_USERS) and not grants(role_, Capability.ADMINISTER_USERS):
            _keep_an_admin(user)
    user.name = name
    if role_.value != user.role:
        record_access(AccessKind.ROLE_CHANGED, user=actor, target=f"user {user.login}", detail=f"{user.role} → {role_.value}")
    user.role = role_.value
    user.team = unit
    user.email = address
    user.is_manager = _manager(is_manager, role_)
    db.session.flush()
    log.info("user updated: login=%r role=%s team=%s by=%r", user.login, user.role,
             unit.code if unit else None, _who(actor))
    return user


def reset_password(user: User, password: str | None, *, actor: User) -> None:
    """An administrator sets a new password: the user's sessions end and any lock is lifted."""
    if user.id == actor.id:
        raise SelfChange(field="password")
    user.password_hash = _new_password(password, user)
    lockout.unlock(user.login)
    second_factor.forgive(user)
    user.end_sessions()
    db.session.flush()
    log.info("password reset: login=%r by=%r", user.login, _who(actor))
    record_access(AccessKind.PASSWORD_CHANGED, user=actor, target=f"user {user.login}", detail="reset by an administrator")


def change_own_password(user: User, current: str | None, new: str | None,
                        remote_addr: str | None) -> None:
    """The user changes their own password; their other sessions end.

    A wrong current password counts toward the lockout like a wrong sign-in, so
    this form cannot be used to guess the password from a stolen session.
    """
    _check_current_password(user, current, remote_addr, field="current_password")
    if current == new:
        raise SamePassword()
    user.password_hash = _new_password(new, user, field="new_password")
    user.end_sessions()
    db.session.flush()
    log.info("password changed: login=%r", user.login)
    record_access(AccessKind.PASSWORD_CHANGED, user=user, target=f"user {user.login}", remote_addr=remote_addr)


def _check_current_password(user: User, current: str | None, remote_addr: str | None, *,
                            field: str) -> None:
    """The signed-in user's own password, given again: admitted and counted as a sign-in is
    (``signin.check_password``), so this form cannot be used to guess it either."""
    try:
        with passwords.hashing_slot():
            signin.check_password(user.login, current or "", remote_addr,
                                  reason="bad_current_password")
    except lockout.Locked as locked:
        raise AccountError(locked.message, code=locked.code, field=field) from None
    except lockout.Delayed as delayed:
        raise AccountError(delayed.message, code=delayed.code, field=field) from None
    except signin.SignInRefused:
        raise WrongCurrentPassword(field=field) from None
    lockout.forgive(user.login, remote_addr)


class CodeMissing(AccountError):
    code = "second_factor_required"
    message = "인증 앱에 표시된 6자리 숫자나 복구 코드를 입력하세요."
    field = "code"


def confirm_identity(user: User, password: str | None, code: str | None,
                     remote_addr: str | None) -> None:
    """본인 확인: the signed-in user's password again, and the second factor's code when enrolled."""
    _check_current_password(user, password, remote_addr, field="password")
    if user.has_second_factor:
        if not (code or "").strip():
            raise CodeMissing()
        try:
            second_factor.verify(user, code, remote_addr)
        except DomainError as error:
            raise AccountError(error.message, code=error.code, field="code") from None
    signin.record_attempt(user.login, remote_addr, success=True, reason="reauthenticated")
    db.session.flush()


def reset_second_factor(user: User, *, actor: User | None) -> None:
    """An administrator takes away another user's second factor (a lost phone); recorded."""
    if actor is not None and user.id == actor.id:
        raise SelfChange()
    if not user.has_second_factor and not user.totp_secret:
        raise AccountError("이 사용자는 2단계 인증을 등록하지 않았습니다.",
                           code="second_factor_not_enrolled")
    second_factor.reset(user, actor=actor)


def set_active(user: User, active: bool, *, actor: User) -> None:
    """Deactivate (ending every session of the user) or reactivate."""
    if user.active == active:
        return
    if not active:
        if user.id == actor.id:
            raise SelfChange()
        if user.can(Capability.ADMINISTER_USERS):
            _keep_an_admin(user)
        user.end_sessions()
    user.active = active
    db.session.flush()
    log.info("user %s: login=%r by=%r", "reactivated" if active else "deactivated", user.login,
             _who(actor))
    record_access(AccessKind.USER_REACTIVATED if active else AccessKind.USER_DEACTIVATED, user=actor, target=f"user {user.login}")


def unlock(user: User, *, actor: User) -> None:
    lockout.unlock(user.login)
    db.session.flush()
    log.info("user unlocked: login=%r by=%r", user.login, _who(actor))


def _keep_an_admin(leaving: User) -> None:
    others = db.session.scalar(
        select(func.count()).select_from(User)
        .where(User.role.in_(roles_with(Capability.ADMINISTER_USERS)), User.active.is_(True),
               User.id != leaving.id)
    )
    if not others:
        raise LastAdmin()


def _who(actor: User | None) -> str:
    return actor.login if actor is not None else "cli"
