"""``flask --app auditflow seed [--demo]``: the organisation and council audits; demo users
only on request, and never in production."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from auditflow.cli.common import committed, fail
from auditflow.errors import DomainError
from auditflow.services.seeding import SeedResult, load

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"


class DemoInProduction(DomainError):
    code = "demo_in_production"
    message = ("운영 환경(AUDITFLOW_ENV=production)에서는 시연 사용자를 만들 수 없습니다. "
               "사용자는 `flask --app auditflow user create`로 만드세요.")


@click.command("seed")
@click.option("--path", "path", type=click.Path(file_okay=False, path_type=Path),
              default=SEED_DIR, show_default=True, help="시드 파일 폴더")
@click.option("--demo", is_flag=True,
              help="시연 사용자(admin, audit, liaison, 부서별 담당자)도 만듭니다. 개발용이며 운영 환경에서는 거부됩니다.")
@with_appcontext
def seed_command(path: Path, demo: bool) -> None:
    """조직과 감사 요구사항 시드를 불러옵니다 (여러 번 실행해도 같습니다).

    이력에 나오는 담당자는 로그인할 수 없는 기록용 계정으로 만들어집니다.
    """
    if demo and current_app.config["AUDITFLOW_ENV"] == "production":
        fail(DemoInProduction())
    result = SeedResult()
    with committed():
        result = load(path, demo=demo, demo_password=current_app.config.get("DEMO_PASSWORD"))
    click.echo(
        f"시드 적용: 조직 {result.units}, 사용자 {result.users}, 감사 {result.audits}, "
        f"요구사항 {result.recommendations} 건 추가"
        + ("" if result.changed else " (이미 모두 있어 바뀐 것이 없습니다)")
    )
    if not demo:
        click.echo("이력의 담당자는 로그인할 수 없는 기록용 계정입니다 (시연 사용자: --demo).")
    if result.passwords:
        if current_app.config.get("DEMO_PASSWORD"):
            click.echo("시연 사용자의 비밀번호는 AUDITFLOW_DEMO_PASSWORD 값입니다.")
        else:
            click.echo("시연 사용자 비밀번호 (지금 한 번만 표시합니다. 개발용입니다):")
            for login, password in result.passwords.items():
                click.echo(f"  {login:<14} {password}")
