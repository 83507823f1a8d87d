"""The report's items as CSV: UTF-8 with a BOM (Excel then reads Korean correctly), CRLF rows.

The header row comes first (so Excel's filters and any import read it as is),
then one row per recommendation in report order; the outline texts keep their
lines (and indentation) inside the quoted cell, in the report's words: "작성 전"
for a 추진내용 not written yet, the 미반영 사유 of a 미반영 item. The last column,
기준일, repeats the reference date ("'26.1.31. 기준") so a copy on its own still
says what day it shows.

A cell that starts like a formula (``=``, ``+``, ``-``, ``@``, a tab, a carriage
return) gets one apostrophe before it, so a spreadsheet opening the file reads
it as text instead of evaluating it (``cells.as_text``, the OWASP rule). Only the
start of a cell counts: the "- " lines inside a 추진내용 stay as they are.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from auditflow.reports.cells import as_text
from auditflow.reports.content import Report, ReportItem
from auditflow.reports.progress import Progress, Steps

COLUMNS = (
    "번호", "분류", "요구사항", "주관부서", "협조부서", "처리기한",
    "추진상황", "추진내용", "향후계획", "미반영 사유", "증빙자료 수", "기준일",
)
BOM = "\ufeff"


def row(item: ReportItem, reference: str) -> list[str | int]:
    return [as_text(value) for value in _values(item, reference)]


def _values(item: ReportItem, reference: str) -> list[str | int]:
    return [
        item.number,
        item.category.label,
        item.council_text,
        item.lead_team or "",
        ", ".join(item.supporting_teams),
        item.due_date.isoformat() if item.due_date else "",
        item.state.report_label,
        item.details_as_written,
        item.future_plan or "",
        item.decline_cell,
        item.evidence_count,
        reference,
    ]


def render(report: Report, progress: Progress | None = None) -> str:
    steps = Steps(progress, len(report.items))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for item in report.items:
        writer.writerow(row(item, report.reference_label))
        steps.advance()
    return BOM + buffer.getvalue()


def write(report: Report, path: Path, progress: Progress | None = None) -> None:
    # newline="" keeps the writer's CRLF as it is.
    with Path(path).open("w", encoding="utf-8", newline="") as out:
        out.write(render(report, progress))
