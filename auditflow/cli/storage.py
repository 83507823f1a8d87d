"""``flask --app auditflow storage sweep``: temp files a crashed process left behind."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from auditflow.storage.transactional import file_store


@click.group("storage")
def storage_group() -> None:
    """증빙·발행 파일 저장소 관리."""


@storage_group.command("sweep")
@click.option("--hours", type=click.FloatRange(min=1), default=24, show_default=True,
              help="이보다 오래된 임시 파일만 지웁니다")
@with_appcontext
def storage_sweep(hours: float) -> None:
    """비정상 종료로 남은 임시 파일(tmp/*.part)을 지웁니다. 저장된 파일과 DB는 건드리지 않습니다."""
    removed = file_store().sweep(hours * 3600)
    click.echo(f"임시 파일 {len(removed)}개를 지웠습니다.")
