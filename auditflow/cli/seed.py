"""``flask --app auditflow seed``: the organisation, demo users and council audits."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from auditflow.cli.common import committed
from auditflow.services.seeding import SeedResult, load

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"


@click.command("seed")
@click.option("--path", "path", type=click.Path(file_okay=False, path_type=Path),
              default=SEED_DIR, show_default=True, help="시드 파일 폴더")
@with_appcontext
def seed_command(path: Path) -> None:
    """조직, 시연 사용자, 감사 요구사항 시드를 불러옵니다 (여러 번 실행해도 같습니다)."""
    result = SeedResult()
    with committed():
        result = load(path, demo_password=current_app.config.get("DEMO_PASSWORD"))
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
