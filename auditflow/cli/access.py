"""``flask --app auditflow access purge``: access records past their retention."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import DBAPIError

from auditflow.cli.common import DATE, committed, fail
from auditflow.errors import DomainError
from auditflow.services import access_log


@click.group("access")
def access_group() -> None:
    """접속기록."""


@access_group.command("purge")
@click.option("--today", "today", type=DATE, default=None,
              help="이 날을 오늘로 보고 보관 기간을 셉니다 (기본: 오늘)")
@with_appcontext
def purge_command(today: date | None) -> None:
    """보관 기간(AUDITFLOW_ACCESS_LOG_RETENTION_DAYS)이 지난 접속기록만 지웁니다. 해시 사슬은 검증할 수 있게 남습니다 (테이블 소유자로 실행)."""
    now = datetime.combine(today, time(), tzinfo=UTC) if today is not None else None
    try:
        with committed():
            purged = access_log.purge(now)
    except DBAPIError as error:  # e.g. the application's role, which may not delete
        fail(DomainError(f"접속기록을 지우지 못했습니다. 테이블 소유자로 접속해 실행하세요 "
                         f"({error.orig}).", code="not_table_owner"))
    click.echo(f"접속기록 {purged.removed}건 삭제, {purged.kept}건 보관 "
               f"({purged.cutoff:%Y-%m-%d %H:%M} UTC 이전 기록 삭제)")
