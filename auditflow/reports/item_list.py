"""The list page's items as a spreadsheet: what the user filtered, as they saw it.

The first line says what was chosen and when (검색 조건, the day, the count), so a copy
on its own still says what it shows; then one row per item. Texts that start like a
formula are text, in XLSX and in CSV (``cells``), as in the report.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from auditflow import dates
from auditflow.models import Recommendation
from auditflow.reports.cells import as_text

COLUMNS: tuple[tuple[str, float], ...] = (
    ("감사", 16), ("번호", 6), ("구분", 12), ("요구사항", 44), ("주관 부서", 14),
    ("협조 부서", 16), ("처리 기한", 11), ("상태", 10), ("추진내용", 44), ("향후계획", 28),
    ("최근 변경", 16),
)
LIMIT = 10_000
BOM = "\ufeff"


@dataclass(frozen=True)
class ItemList:
    items: Sequence[Recommendation]
    conditions: str  # "감사: 2025 행정사무감사 · 상태: 추진 중"
    today: date

    @property
    def caption(self) -> str:
        return (f"검색 조건: {self.conditions or '전체'} · {dates.short(self.today)} 기준 "
                f"{len(self.items)}건")


def _values(item: Recommendation) -> list[Any]:
    state = item.state_enum.label + (" (보완 요청)" if item.is_returned else "")
    return [
        item.audit.title, item.number, item.category_enum.label, item.council_text,
        item.lead_team.name if item.lead_team else "",
        ", ".join(team.name for team in item.supporting_teams), item.due_date, state,
        item.action_details or "", item.future_plan or "",
        dates.local(item.updated_at).strftime("%Y-%m-%d %H:%M"),
    ]


def to_csv(listing: ItemList) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([listing.caption])
    writer.writerow([title for title, _ in COLUMNS])
    for item in listing.items:
        writer.writerow([as_text(value.isoformat() if isinstance(value, date) else value)
                         for value in _values(item)])
    return BOM + buffer.getvalue()


def to_xlsx(listing: ItemList) -> bytes:
    # The XLSX writer (XlsxWriter) is loaded when a list is asked for as XLSX, not by
    # every process that shows the list page (start-up: README, "Start-up").
    from xlsxwriter import Workbook

    from auditflow.reports.xlsx import HEADER_FILL, Sheets, row_height

    buffer = io.BytesIO()
    book = Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                             "strings_to_numbers": False, "strings_to_urls": False})
    book.set_properties({"title": "요구사항 목록", "created": datetime.combine(listing.today, time())})
    sheets = Sheets(book)
    sheet = book.add_worksheet("요구사항 목록")
    widths = [width for _, width in COLUMNS]
    header = {"bold": True, "bg_color": HEADER_FILL, "border": 1, "align": "center",
              "valign": "vcenter", "text_wrap": True}
    cell = {"border": 1, "valign": "top", "text_wrap": True}
    sheet.merge_range(0, 0, 0, len(COLUMNS) - 1, listing.caption, sheets.style(bold=True))
    for col, (title, width) in enumerate(COLUMNS):
        sheet.set_column(col, col, width)
        sheets.put(sheet, 1, col, title, header)
    for row, item in enumerate(listing.items, start=2):
        values = _values(item)
        for col, value in enumerate(values):
            sheets.put(sheet, row, col, value, cell)  # a date gets the date format there
        sheet.set_row(row, row_height(values, widths))
    sheet.freeze_panes(2, 0)
    sheet.autofilter(1, 0, 1 + len(listing.items), len(COLUMNS) - 1)
    sheet.set_paper(9)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(1)
    sheet.set_footer("&C- &P -")
    book.close()
    return buffer.getvalue()
