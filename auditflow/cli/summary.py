"""``flask --app auditflow summary``: the 조치내역 table as text, CSV or JSON."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext

from auditflow.cli.common import DATE, fail
from auditflow.errors import NotFound
from auditflow.extensions import db
from auditflow.models import Audit
from auditflow.reports import summary_formats
from auditflow.reports.summary import latest_audit, summarize


@click.command("summary")
@click.option("--audit", "audit_id", type=int, help="감사 번호 (기본: 가장 최근 감사)")
@click.option("--as-of", "as_of", type=DATE, help="기준일 YYYY-MM-DD (기본: 오늘)")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text",
              show_default=True)
@with_appcontext
def summary_command(audit_id: int | None, as_of: date | None, fmt: str) -> None:
    """조치내역 총괄표를 출력합니다."""
    audit = db.session.get(Audit, audit_id) if audit_id else latest_audit()
    if audit is None:
        fail(NotFound("감사가 없습니다. 먼저 `flask --app auditflow seed`를 실행하세요."
                      if audit_id is None else f"{audit_id}번 감사가 없습니다.",
                      code="audit_not_found"))
    result = summarize(audit, as_of)
    render = {"text": summary_formats.to_text, "csv": summary_formats.to_csv,
              "json": summary_formats.to_json}[fmt]
    click.echo(render(result), nl=False)
