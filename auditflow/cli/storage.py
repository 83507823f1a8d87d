"""``flask --app auditflow storage sweep``: temp files a crashed process left behind."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from auditflow.services import stored_files
from auditflow.storage.transactional import file_store


@click.group("storage")
def storage_group() -> None:
    """증빙·발행 파일 저장소 관리."""


@storage_group.command("sweep")
@click.option("--hours", type=click.FloatRange(min=1), default=24, show_default=True,
              help="이보다 오래된 임시 파일만 지웁니다")
@click.option("--orphans", is_flag=True,
              help="어느 기록에도 연결되지 않은 저장 파일(저장 직후 비정상 종료로 남은 것)도 지웁니다")
@with_appcontext
def storage_sweep(hours: float, orphans: bool) -> None:
    """비정상 종료로 남은 임시 파일(tmp/*.part)을 지웁니다. 저장된 파일과 DB는 건드리지 않습니다.

    --orphans를 주면 DB의 어느 행(증빙자료, 발행 파일, 내려받기 작업)도 가리키지 않는,
    --hours보다 오래된 저장 파일(폴더 또는 객체 저장소)도 지웁니다. DB를 백업에서 되살린
    직후에는 쓰지 마세요: 되살린 시점 뒤에 올린 파일이 연결되지 않은 것으로 보입니다.
    """
    removed = file_store().sweep(hours * 3600)
    click.echo(f"임시 파일 {len(removed)}개를 지웠습니다.")
    if orphans:
        count = stored_files.remove(stored_files.unreferenced(hours * 3600))
        click.echo(f"연결되지 않은 저장 파일 {count}개를 지웠습니다.")
