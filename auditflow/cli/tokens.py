"""``flask --app auditflow token create``: a personal access token for the JSON API."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from auditflow.cli.common import committed, fail
from auditflow.errors import NotFound
from auditflow.extensions import db
from auditflow.models import User
from auditflow.services import tokens
from auditflow.vocabulary import TokenScope


@click.group("token")
def token_group() -> None:
    """API 액세스 토큰."""


@token_group.command("create")
@click.option("--login", "login", required=True, help="토큰을 쓸 사용자의 로그인 아이디")
@click.option("--scope", "scope", type=click.Choice([scope.value for scope in TokenScope]),
              default=TokenScope.READ.value, show_default=True, help="read: 읽기 전용, write: 읽기·쓰기")
@click.option("--days", "days", type=int, default=None, help="유효 기간(일), 기본 AUDITFLOW_API_TOKEN_DAYS(90)")
@click.option("--name", "name", default="명령줄에서 만든 토큰", show_default=True, help="토큰 이름(용도)")
@with_appcontext
def token_create_command(login: str, scope: str, days: int | None, name: str) -> None:
    """토큰을 만들고 한 번만 출력합니다 (저장되는 것은 해시뿐입니다)."""
    user = db.session.scalars(select(User).where(User.login == login)).first()
    if user is None:
        fail(NotFound(f"사용자 '{login}'이(가) 없습니다.", code="user_not_found"))
    with committed():
        made = tokens.create(user, name=name, scope=scope, days=days)
    click.echo(made.secret)
    click.echo(f"토큰 {made.token.prefix}… ({made.token.scope_enum.label}, "
               f"{made.token.expires_at:%Y-%m-%d %H:%M} UTC까지): 다시 볼 수 없으니 지금 보관하세요.",
               err=True)
