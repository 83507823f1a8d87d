"""The council report as an Excel workbook, written with openpyxl.

Three sheets:

* 총괄 — the title, the body and the reference date, then the 조치내역 table
  with its counts as numbers. The 계 column and the 계 row are SUM formulas, so
  a figure corrected by hand in Excel still adds up; the hidden column 검산
  beside the table holds the summary engine's own row totals, so a formula that
  disagrees with the engine is visible to anyone who unhides it (and to the
  tests). Zeros are kept as numbers and shown blank, as the document prints them.
* 요구사항 — one row per recommendation: number, category, text, teams, due
  date (a real date), state, 추진내용, 향후계획, evidence count; frozen header,
  filters, wrapped text.
* 부서별 현황 — the per-team table of ``reports.teams`` for the same audit and day.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from auditflow import dates
from auditflow.outline import to_plain
from auditflow.reports.content import Report
from auditflow.reports.summary_formats import HEAD, TOTAL
from auditflow.reports.teams import COUNTING_NOTE

SUMMARY_SHEET = "총괄"
ITEMS_SHEET = "요구사항"
TEAMS_SHEET = "부서별 현황"
DUE_SHEET = "기한 변경"
DUE_COLUMNS = (("번호", 7), ("구분", 16), ("요구사항", 40), ("처음 기한", 12), ("현재 기한", 12),
               ("변경 횟수", 9), ("변경일", 12), ("이전 기한", 12), ("바뀐 기한", 12),
               ("방식", 12), ("처리자", 18), ("사유", 40))
CHECK_HEADER = "검산"

FONT_NAME = "맑은 고딕"
TABLE_FIRST_ROW = 6  # the 총괄 table's header row (title, body, date, count line above)
ZERO_BLANK = '#,##0;-#,##0;"";@'  # numbers stay numbers; a zero shows blank as in the document
DATE_FORMAT = "yyyy-mm-dd"

# (title, width, key) of the items sheet, in column order.
ITEM_COLUMNS: tuple[tuple[str, float], ...] = (
    ("번호", 6),
    ("분류", 18),
    ("요구사항", 50),
    ("주관부서", 14),
    ("협조부서", 18),
    ("처리기한", 12),
    ("추진상황", 10),
    ("추진내용", 70),
    ("향후계획", 40),
    ("증빙자료 수", 11),
)

_THIN = Side(style="thin", color="000000")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="E5E5E5")
_BODY = Font(name=FONT_NAME, size=10)
_BOLD = Font(name=FONT_NAME, size=10, bold=True)
_TITLE = Font(name=FONT_NAME, size=16, bold=True)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_TOP = Alignment(vertical="top", wrap_text=True)
_TOP_CENTER = Alignment(horizontal="center", vertical="top", wrap_text=True)


def write(report: Report, path: Path) -> None:
    build(report).save(path)


def to_bytes(report: Report) -> bytes:
    buffer = io.BytesIO()
    build(report).save(buffer)
    return buffer.getvalue()


def build(report: Report) -> Workbook:
    workbook = Workbook()
    workbook.properties.title = f"{report.title} ({report.reference_label})"
    workbook.properties.creator = report.organisation
    first = workbook.active
    assert isinstance(first, Worksheet)
    _summary_sheet(first, report)
    _items_sheet(workbook.create_sheet(ITEMS_SHEET), report)
    _teams_sheet(workbook.create_sheet(TEAMS_SHEET), report)
    _due_sheet(workbook.create_sheet(DUE_SHEET), report)
    return workbook


# ─── 총괄 ──────────────────────────────────────────────────────────────────────


def _summary_sheet(sheet: Worksheet, report: Report) -> None:
    sheet.title = SUMMARY_SHEET
    summary = report.summary
    states = summary.columns
    width = 2 + len(states)  # 구분, 계, the states
    _heading(sheet, report, width)
    sheet.cell(row=4, column=1, value=f"수감결과 처리요구사항 등 총 {summary.total.total}건").font = _BODY

    top = TABLE_FIRST_ROW
    header = [HEAD, TOTAL, *(state.label for state in states)]
    for col, title in enumerate(header, start=1):
        _header_cell(sheet.cell(row=top, column=col, value=title))
    check_col = width + 1
    _header_cell(sheet.cell(row=top, column=check_col, value=CHECK_HEADER))

    total_row = top + 1
    first, last = total_row + 1, total_row + len(summary.rows) - 1
    for offset, row in enumerate(summary.rows):
        r = total_row + offset
        label = sheet.cell(row=r, column=1, value=row.label)
        label.font = _BOLD if offset == 0 else _BODY
        label.border, label.alignment = _BOX, _CENTER
        for col, state in enumerate(states, start=3):
            letter = get_column_letter(col)
            value: Any = f"=SUM({letter}{first}:{letter}{last})" if offset == 0 else row.counts[state]
            _number_cell(sheet.cell(row=r, column=col, value=value))
        if offset == 0:
            row_total: Any = f"=SUM(B{first}:B{last})"
        else:
            row_total = f"=SUM(C{r}:{get_column_letter(width)}{r})"
        _number_cell(sheet.cell(row=r, column=2, value=row_total), bold=offset == 0)
        # The engine's own total, kept beside the formula it must equal.
        _number_cell(sheet.cell(row=r, column=check_col, value=row.total))
    sheet.column_dimensions[get_column_letter(check_col)].hidden = True

    sheet.column_dimensions["A"].width = 22
    for col in range(2, width + 1):
        sheet.column_dimensions[get_column_letter(col)].width = 11
    sheet.freeze_panes = sheet.cell(row=top + 1, column=1).coordinate
    _print_setup(sheet, landscape=False, title_rows=None)


def _heading(sheet: Worksheet, report: Report, width: int) -> None:
    end = get_column_letter(width)
    sheet.merge_cells(f"A1:{end}1")
    title = sheet.cell(row=1, column=1, value=report.title)
    title.font, title.alignment = _TITLE, Alignment(horizontal="center")
    sheet.cell(row=2, column=1, value=report.organisation).font = _BOLD
    sheet.merge_cells(f"A3:{end}3")
    date_cell = sheet.cell(row=3, column=1, value=report.reference_label)
    date_cell.font, date_cell.alignment = _BODY, Alignment(horizontal="right")


def _header_cell(cell: Any) -> None:
    cell.font, cell.fill, cell.border, cell.alignment = _BOLD, _HEADER_FILL, _BOX, _CENTER


def _number_cell(cell: Any, bold: bool = False) -> None:
    cell.number_format = ZERO_BLANK
    cell.font = _BOLD if bold else _BODY
    cell.border, cell.alignment = _BOX, _CENTER


# ─── 요구사항 ──────────────────────────────────────────────────────────────────


def item_rows(report: Report) -> list[list[Any]]:
    """One row per recommendation, as the items sheet holds them (dates as dates)."""
    rows = []
    for item in report.items:
        rows.append([
            item.number,
            item.category.label,
            item.council_text,
            item.lead_team or "",
            ", ".join(item.supporting_teams),
            item.due_date,
            item.state.label,
            "\n".join(to_plain(item.action_details)),
            "\n".join(to_plain(item.future_plan)),
            item.evidence_count,
        ])
    return rows


def _list_sheet(sheet: Worksheet, columns: Sequence[tuple[str, float]], rows: list[list[Any]], *,
                centered: set[int], date_columns: set[int]) -> None:
    """A header row, then one row per entry: boxed, dates as dates, filterable, printable."""
    for col, (title, width) in enumerate(columns, start=1):
        _header_cell(sheet.cell(row=1, column=col, value=title))
        sheet.column_dimensions[get_column_letter(col)].width = width
    for r, values in enumerate(rows, start=2):
        for col, value in enumerate(values, start=1):
            cell = sheet.cell(row=r, column=col, value=value)
            cell.font, cell.border = _BODY, _BOX
            cell.alignment = _TOP_CENTER if col in centered | date_columns else _TOP
            if col in date_columns:
                cell.number_format = DATE_FORMAT
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1 + len(rows), 1)}"
    _print_setup(sheet, landscape=True, title_rows="1:1")


def _items_sheet(sheet: Worksheet, report: Report) -> None:
    _list_sheet(sheet, ITEM_COLUMNS, item_rows(report), centered={1, 7, 10}, date_columns={6})


# ─── 기한 변경 ─────────────────────────────────────────────────────────────────


def due_rows(report: Report) -> list[list[Any]]:
    """One row per change of a due date (the item's columns repeated, for filtering)."""
    rows = []
    for entry in report.due_changes:
        story = entry.story
        for change in story.changes:
            rows.append([
                entry.number, entry.category.label, entry.council_text, story.original,
                story.current, story.count, dates.local(change.at).date(), change.old,
                change.new, "요청 승인" if change.requested else "감사팀 직접 변경", change.by,
                change.reason,
            ])
    return rows


def _due_sheet(sheet: Worksheet, report: Report) -> None:
    rows = due_rows(report)
    _list_sheet(sheet, DUE_COLUMNS, rows, centered={1, 6, 10}, date_columns={4, 5, 7, 8, 9})
    if not rows:
        sheet.cell(row=2, column=1, value="기한이 바뀐 요구사항이 없습니다.").font = _BODY


# ─── 부서별 현황 ───────────────────────────────────────────────────────────────


def _teams_sheet(sheet: Worksheet, report: Report) -> None:
    status = report.teams
    table = status.table()
    width = len(table[0])
    _heading(sheet, report, width)
    sheet.cell(row=5, column=1, value=f"ㅇ {status.scope_label}").font = _BOLD
    note = sheet.cell(row=4, column=1, value=COUNTING_NOTE)
    note.font, note.alignment = _BODY, Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells(start_row=4, start_column=1, end_row=4, end_column=width)
    sheet.row_dimensions[4].height = 42
    top = TABLE_FIRST_ROW
    _table(sheet, top, table)
    # Below it, the open items of every audit, so an item carried over from an
    # earlier year shows up at its team too.
    carried = report.carried_over
    below = top + len(table) + 2
    sheet.cell(row=below, column=1, value=f"ㅇ {carried.scope_label}").font = _BOLD
    _table(sheet, below + 1, carried.table())
    sheet.column_dimensions["A"].width = 22
    for col in range(2, width + 1):
        sheet.column_dimensions[get_column_letter(col)].width = 10
    sheet.freeze_panes = sheet.cell(row=top + 1, column=2).coordinate
    _print_setup(sheet, landscape=False, title_rows=f"{top}:{top}")


def _table(sheet: Worksheet, top: int, table: Sequence[Sequence[Any]]) -> None:
    for col, title in enumerate(table[0], start=1):
        _header_cell(sheet.cell(row=top, column=col, value=title))
    for offset, row in enumerate(table[1:], start=1):
        for col, value in enumerate(row, start=1):
            cell = sheet.cell(row=top + offset, column=col, value=value)
            if col == 1:
                cell.font = _BOLD if offset == 1 else _BODY
                cell.border, cell.alignment = _BOX, _CENTER
            else:
                _number_cell(cell, bold=offset == 1)


def _print_setup(sheet: Worksheet, *, landscape: bool, title_rows: str | None) -> None:
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    if sheet.sheet_properties.pageSetUpPr is None:
        sheet.sheet_properties.pageSetUpPr = PageSetupProperties()
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        sheet.print_title_rows = title_rows
