"""``flask --app auditflow user create|list|reset-second-factor``: user accounts from the command line."""

from __future__ import annotations

import os

import click
from flask.cli import with_appcontext

from auditflow.cli.common import committed, fail
from auditflow.errors import NotFound
from auditflow.models import User
from auditflow.services import accounts
from auditflow.vocabulary import Role


@click.group("user")
def user_group() -> None:
    """사용자 계정: 등록, 목록, 2단계 인증 초기화."""


@user_group.command("create")
@click.option("--login", "login", required=True, help="로그인 아이디 (영문 소문자, 숫자, . - _)")
@click.option("--name", "name", required=True, help="이름")
@click.option("--role", "role", required=True,
              help="역할: " + ", ".join(f"{role.value}({role.label})" for role in Role))
@click.option("--team", "team", default=None, help="소속 팀/TF 코드 (부서 담당자는 필수)")
@click.option("--email", "email", default=None, help="알림 메일 주소")
@click.option("--manager", "manager", is_flag=True, help="팀 관리자 (부서 담당자만)")
@with_appcontext
def user_create_command(login: str, name: str, role: str, team: str | None, email: str | None,
                        manager: bool) -> None:
    """사용자를 등록합니다. 비밀번호는 AUDITFLOW_NEW_USER_PASSWORD 값, 없으면 두 번 입력받습니다."""
    password = os.environ.get("AUDITFLOW_NEW_USER_PASSWORD")
    if not password:
        # Check everything but the password first, so nobody types a password for nothing.
        with committed():
            accounts.validate_new(login=login, name=name, role=role, team=team, email=email)
        password = click.prompt("비밀번호", hide_input=True, confirmation_prompt="비밀번호 확인",
                                err=True)
    user: User | None = None
    with committed():
        user = accounts.create(login=login, name=name, role=role, team=team, password=password,
                               actor=None, email=email, is_manager=manager)
    team_text = f", 소속 {user.team.name}" if user.team else ""
    click.echo(f"사용자 등록: {user.login} ({user.name}, {Role(user.role).label}{team_text})")


@user_group.command("list")
@with_appcontext
def user_list_command() -> None:
    """사용자 목록을 출력합니다 (아이디, 이름, 역할, 소속, 사용 여부, 잠금)."""
    for row in accounts.listing():
        user = row.user
        state = "사용" if user.active else "사용 중지"
        lock = " 잠김" if row.locked else ""
        click.echo(f"{user.login}\t{user.name}\t{row.role_label}\t{row.team_name or '-'}\t{state}{lock}")


@user_group.command("reset-second-factor")
@click.argument("login")
@with_appcontext
def user_reset_second_factor_command(login: str) -> None:
    """LOGIN 사용자의 2단계 인증(인증 앱, 복구 코드)을 초기화합니다. 관리자가 모두 잠긴 경우에 씁니다."""
    with committed():
        user = accounts.find(login)
        if user is None:
            fail(NotFound(f"'{login}' 사용자가 없습니다.", code="user_not_found"))
        accounts.reset_second_factor(user, actor=None)
    click.echo(f"2단계 인증 초기화: {user.login} (다음 로그인 때 인증 앱을 다시 등록합니다)")
