"""``flask --app auditflow <command>``: seed, summary, user.

A refused command prints the Korean message with its stable code on stderr and
exits with status 1; nothing is written.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from auditflow.errors import DomainError
from auditflow.extensions import db

SEED_DIR = Path(__file__).resolve().parent.parent / "seed"


def fail(error: DomainError, details: list[str] | None = None) -> None:
    click.echo(f"오류 [{error.code}]: {error.message}", err=True)
    for line in details or []:
        click.echo(f"  - {line}", err=True)
    sys.exit(1)


class _Date(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"날짜는 YYYY-MM-DD 형식이어야 합니다: {value!r}", param, ctx)


DATE = _Date()


@click.command("seed")
@click.option("--path", "path", type=click.Path(file_okay=False, path_type=Path),
              default=SEED_DIR, show_default=True, help="시드 파일 폴더")
@with_appcontext
def seed_command(path: Path) -> None:
    """조직, 시연 사용자, 감사 요구사항 시드를 불러옵니다 (여러 번 실행해도 같습니다)."""
    from auditflow.services.seeding import SeedRefused, load

    try:
        result = load(path, demo_password=current_app.config.get("DEMO_PASSWORD"))
        db.session.commit()
    except SeedRefused as refused:
        db.session.rollback()
        fail(refused, [str(problem) for problem in refused.problems])
    except DomainError as error:
        db.session.rollback()
        fail(error)
    click.echo(
        f"시드 적용: 조직 {result.units}, 사용자 {result.users}, 감사 {result.audits}, "
        f"요구사항 {result.recommendations} 건 추가"
        + ("" if result.changed else " (이미 모두 있어 바뀐 것이 없습니다)")
    )
    if result.passwords:
        if current_app.config.get("DEMO_PASSWORD"):
            click.echo("시연 사용자의 비밀번호는 AUDITFLOW_DEMO_PASSWORD 값입니다.")
        else:
            click.echo("시연 사용자 비밀번호 (지금 한 번만 표시합니다. 개발용입니다):")
            for login, password in result.passwords.items():
                click.echo(f"  {login:<14} {password}")


@click.command("summary")
@click.option("--audit", "audit_id", type=int, help="감사 번호 (기본: 가장 최근 감사)")
@click.option("--as-of", "as_of", type=DATE, help="기준일 YYYY-MM-DD (기본: 오늘)")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text",
              show_default=True)
@with_appcontext
def summary_command(audit_id: int | None, as_of: date | None, fmt: str) -> None:
    """조치내역 총괄표를 출력합니다."""
    from auditflow.errors import NotFound
    from auditflow.models import Audit
    from auditflow.reports import summary_formats
    from auditflow.reports.summary import latest_audit, summarize

    audit = db.session.get(Audit, audit_id) if audit_id else latest_audit()
    if audit is None:
        fail(NotFound("감사가 없습니다. 먼저 `flask --app auditflow seed`를 실행하세요."
                      if audit_id is None else f"{audit_id}번 감사가 없습니다.",
                      code="audit_not_found"))
    result = summarize(audit, as_of)
    render = {"text": summary_formats.to_text, "csv": summary_formats.to_csv,
              "json": summary_formats.to_json}[fmt]
    click.echo(render(result), nl=False)


@click.group("user")
def user_group() -> None:
    """사용자 계정: 등록, 목록."""


@user_group.command("create")
@click.option("--login", "login", required=True, help="로그인 아이디 (영문 소문자, 숫자, . - _)")
@click.option("--name", "name", required=True, help="이름")
@click.option("--role", "role", required=True,
              help="역할: admin(시스템 관리자), audit(감사팀), department(부서 담당자), liaison(의회 담당관)")
@click.option("--team", "team", default=None, help="소속 팀/TF 코드 (부서 담당자는 필수)")
@with_appcontext
def user_create_command(login: str, name: str, role: str, team: str | None) -> None:
    """사용자를 등록합니다. 비밀번호는 AUDITFLOW_NEW_USER_PASSWORD 값, 없으면 두 번 입력받습니다."""
    import os

    from auditflow.auth import accounts
    from auditflow.models import Role

    password = os.environ.get("AUDITFLOW_NEW_USER_PASSWORD")
    if not password:
        # Check everything but the password first, so nobody types a password for nothing.
        try:
            accounts.validate_new(login=login, name=name, role=role, team=team)
        except DomainError as error:
            db.session.rollback()
            fail(error, _more(error))
        password = click.prompt("비밀번호", hide_input=True, confirmation_prompt="비밀번호 확인",
                                err=True)
    try:
        user = accounts.create(login=login, name=name, role=role, team=team, password=password,
                               actor=None)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        fail(error, _more(error))
    team_text = f", 소속 {user.team.name}" if user.team else ""
    click.echo(f"사용자 등록: {user.login} ({user.name}, {Role(user.role).label}{team_text})")


def _more(error: DomainError) -> list[str]:
    """The refusals after the first, when several were found at once."""
    return [f"[{more.code}] {more.message}" for more in getattr(error, "errors", [])[1:]]


@user_group.command("list")
@with_appcontext
def user_list_command() -> None:
    """사용자 목록을 출력합니다 (아이디, 이름, 역할, 소속, 사용 여부, 잠금)."""
    from auditflow.auth import accounts

    for row in accounts.listing():
        user = row.user
        state = "사용" if user.active else "사용 중지"
        lock = " 잠김" if row.locked else ""
        click.echo(f"{user.login}\t{user.name}\t{row.role_label}\t{row.team_name or '-'}\t{state}{lock}")


def _report_command() -> click.Command:
    from auditflow.reports.commands import report_command

    return report_command


@click.group("storage")
def storage_group() -> None:
    """증빙·발행 파일 저장소 관리."""


@storage_group.command("sweep")
@click.option("--hours", type=click.FloatRange(min=1), default=24, show_default=True,
              help="이보다 오래된 임시 파일만 지웁니다")
@with_appcontext
def storage_sweep(hours: float) -> None:
    """비정상 종료로 남은 임시 파일(tmp/*.part)을 지웁니다. 저장된 파일과 DB는 건드리지 않습니다."""
    from auditflow.storage.transactional import file_store

    removed = file_store().sweep(hours * 3600)
    click.echo(f"임시 파일 {len(removed)}개를 지웠습니다.")


def register(app: Flask) -> None:
    app.cli.add_command(seed_command)
    app.cli.add_command(summary_command)
    app.cli.add_command(_report_command())
    app.cli.add_command(user_group)
    app.cli.add_command(storage_group)
