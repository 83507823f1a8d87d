"""``flask --app auditflow report``: write the council report in one format.

    flask --app auditflow report --audit 1 --as-of 2026-01-31 --format pdf --output 보고서.pdf

The file is written beside its destination and moved into place at the end, so
a failed run leaves no half-written file.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext

from auditflow.cli.common import DATE, fail
from auditflow.errors import DomainError, NotFound
from auditflow.extensions import db
from auditflow.models import Audit
from auditflow.reports import FORMATS, Writer, writer
from auditflow.reports.content import Report, build_report


def write_report_file(write: Writer, report: Report, output: Path) -> int:
    """Write through a temp file in the same folder, then rename: all or nothing."""
    output = output.resolve()
    fd, name = tempfile.mkstemp(dir=output.parent, prefix=".report-", suffix=output.suffix)
    os.close(fd)
    temp = Path(name)
    try:
        write(report, temp)
        os.replace(temp, output)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return output.stat().st_size


@click.command("report")
@click.option("--audit", "audit_id", type=int, required=True, help="감사 번호")
@click.option("--as-of", "as_of", type=DATE, help="기준일 YYYY-MM-DD (기본: 오늘)")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="파일 형식")
@click.option("--output", "output", required=True,
              type=click.Path(dir_okay=False, writable=True, path_type=Path), help="저장할 파일")
@with_appcontext
def report_command(audit_id: int, as_of: date | None, fmt: str, output: Path) -> None:
    """행정사무감사 처리결과 보고서를 파일로 만듭니다 (html, pdf, hwpx, xlsx, csv)."""
    audit = db.session.get(Audit, audit_id)
    if audit is None:
        fail(NotFound(f"{audit_id}번 감사가 없습니다.", code="audit_not_found"))
    if not output.resolve().parent.is_dir():
        fail(DomainError(f"저장할 폴더가 없습니다: {output.resolve().parent}",
                         code="output_folder_missing"))
    try:
        write = writer(fmt)
        report = build_report(audit, as_of)
        size = write_report_file(write, report, output)
    except DomainError as error:
        fail(error)
    click.echo(
        f"{report.title} ({report.reference_label}, 총 {report.total}건) → {output} ({size:,} 바이트)"
    )
