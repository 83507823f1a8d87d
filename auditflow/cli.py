"""``flask --app auditflow <command>``: seed, summary.

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


def _report_command() -> click.Command:
    from auditflow.reports.commands import report_command

    return report_command


def register(app: Flask) -> None:
    app.cli.add_command(seed_command)
    app.cli.add_command(summary_command)
    app.cli.add_command(_report_command())
