"""``flask --app auditflow integrity verify | grant-app-role``: the chains and the files."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from auditflow.cli.common import committed, fail
from auditflow.errors import DomainError
from auditflow.extensions import db
from auditflow.services import integrity


@click.group("integrity")
def integrity_group() -> None:
    """이력·발행본·접속기록의 해시 사슬과 저장 파일 검증."""


@integrity_group.command("verify")
@with_appcontext
def verify_command() -> None:
    """모든 해시 사슬과 저장 파일(증빙, 발행 파일)을 검증합니다. 이상이 있으면 상태 1로 끝납니다."""
    with committed():
        result = integrity.verify()
    for name, count in sorted(result.counts.items()):
        click.echo(f"{name}: {count}")
    if result.ok:
        click.echo("검증 완료: 이상 없음")
        return
    for problem in result.problems:
        click.echo(f"오류 [{problem.what}] {problem.where}: {integrity.WHAT[problem.what]} — "
                   f"{problem.detail}", err=True)
    raise SystemExit(1)


@integrity_group.command("grant-app-role")
@click.option("--role", "role", required=True, help="응용 프로그램이 접속할 PostgreSQL 역할")
@with_appcontext
def grant_app_role_command(role: str) -> None:
    """PostgreSQL: 응용 프로그램 역할에 이력·발행·접속기록 테이블의 SELECT·INSERT만 허용합니다 (테이블 소유자로 실행)."""
    if db.engine.dialect.name != "postgresql":
        fail(DomainError("PostgreSQL에서만 쓰는 명령입니다.", code="postgresql_only"))
    try:
        with committed():
            statements = integrity.grant_app_role(role)
    except ValueError as error:
        fail(DomainError(f"역할 이름이 올바르지 않습니다: {error}", code="invalid_role"))
    for statement in statements:
        click.echo(statement)
