"""``flask --app auditflow backup create | verify | restore FILE``: backups that restore."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import DBAPIError

from auditflow.cli.common import fail
from auditflow.errors import DomainError
from auditflow.extensions import db
from auditflow.services import backup

_FILE = click.Path(dir_okay=False, path_type=Path)


@click.group("backup")
def backup_group() -> None:
    """데이터베이스와 저장 파일의 백업·검증·복원."""


@backup_group.command("create")
@click.argument("file", type=_FILE)
@with_appcontext
def create_command(file: Path) -> None:
    """데이터베이스(한 시점의 일관된 사본)와 저장 폴더를 FILE 하나에 백업합니다. 사용 중에도 됩니다."""
    try:
        created = backup.create(file)
    except DomainError as error:
        fail(error)
    finally:
        db.session.remove()
    manifest = created.manifest
    rows = sum(table["rows"] for table in manifest["tables"].values())
    click.echo(f"백업 완료: {created.path} (테이블 {len(manifest['tables'])}개, 행 {rows}개, "
               f"파일 {len(manifest['files'])}개, 마이그레이션 판 {manifest['revision'] or '없음'})")


@backup_group.command("verify")
@click.argument("file", type=_FILE)
@with_appcontext
def verify_command(file: Path) -> None:
    """FILE이 자기 목록(행 수, SHA-256)과 맞는지 복원하지 않고 검사합니다. 이상이 있으면 상태 1로 끝납니다."""
    try:
        checked = backup.verify(file)
    except DomainError as error:
        fail(error)
    if not checked.ok:
        fail(DomainError("백업 파일이 목록과 맞지 않습니다.", code="archive_invalid"),
             checked.problems)
    manifest = checked.manifest
    click.echo(f"검증 완료: 이상 없음 (테이블 {len(manifest['tables'])}개, "
               f"파일 {len(manifest['files'])}개, {manifest['created_at']} 백업)")


@backup_group.command("restore")
@click.argument("file", type=_FILE)
@with_appcontext
def restore_command(file: Path) -> None:
    """FILE을 빈 데이터베이스(같은 마이그레이션 판)와 빈 저장 폴더에 복원하고 목록과 해시 사슬을 검사합니다 (테이블 소유자로 실행)."""
    try:
        restored = backup.restore(file)
    except DomainError as error:
        fail(error)
    except DBAPIError as error:  # e.g. a role that may not set the id sequences
        fail(DomainError(f"복원하지 못했습니다. 아무것도 쓰지 않았습니다. 테이블 소유자로 접속해 "
                         f"실행하세요 ({error.orig}).", code="restore_failed"))
    finally:
        db.session.remove()
    problems = restored.check.problems + [str(problem)
                                          for problem in restored.verification.problems]
    if problems:
        fail(DomainError("복원한 내용이 백업 목록이나 해시 사슬과 맞지 않습니다.",
                         code="restore_mismatch"), problems)
    for name, count in sorted(restored.verification.counts.items()):
        click.echo(f"{name}: {count}")
    click.echo(f"복원 완료: {file} (테이블 {len(restored.manifest['tables'])}개, "
               f"파일 {len(restored.manifest['files'])}개). 목록과 해시 사슬 검증: 이상 없음")
