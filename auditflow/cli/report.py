"""``flask --app auditflow report``: write the council report in one format, and the editions.

    flask --app auditflow report --audit 1 --as-of 2026-01-31 --format pdf --output 보고서.pdf
    flask --app auditflow report issue --audit 1 --as-of 2026-01-31 [--by LOGIN]
    flask --app auditflow report verify --edition ID | --audit 1 --edition N
    flask --app auditflow report diff --from ID --to ID | --audit 1 --from N --to M

The file is written beside its destination and moved into place at the end, so
a failed run leaves no half-written file. The commands on editions are in
``cli.editions``; ``report`` alone, with its options, writes one file as before.
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


@click.group("report", invoke_without_command=True)
@click.option("--audit", "audit_id", type=int, help="감사 번호")
@click.option("--as-of", "as_of", type=DATE, help="기준일 YYYY-MM-DD (기본: 오늘)")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="파일 형식")
@click.option("--output", "output",
              type=click.Path(dir_okay=False, writable=True, path_type=Path), help="저장할 파일")
@with_appcontext
@click.pass_context
def report_command(ctx: click.Context, audit_id: int | None, as_of: date | None,
                   fmt: str | None, output: Path | None) -> None:
    """행정사무감사 처리결과 보고서를 파일로 만듭니다 (html, pdf, hwpx, xlsx, csv).

    발행본은 하위 명령으로 다룹니다: issue(발행), verify(검증), diff(판 비교).
    """
    if ctx.invoked_subcommand is not None:
        if any(value is not None for value in (audit_id, as_of, fmt, output)):
            raise click.UsageError("파일 만들기 옵션은 하위 명령 없이만 씁니다.")
        return
    missing = [name for name, value in (("--audit", audit_id), ("--format", fmt),
                                        ("--output", output)) if value is None]
    if missing:
        raise click.UsageError(f"빠진 옵션이 있습니다: {', '.join(missing)} "
                               "(발행본은 issue, verify, diff 하위 명령으로 다룹니다)")
    assert audit_id is not None and fmt is not None and output is not None
    write_one(audit_id, as_of, fmt, output)


def write_one(audit_id: int, as_of: date | None, fmt: str, output: Path) -> None:
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
