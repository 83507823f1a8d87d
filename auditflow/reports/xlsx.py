"""The council report as an Excel workbook, written with XlsxWriter.

Four sheets:

* 총괄 — the title, the body and the reference date, then the 조치내역 table
  with its counts as numbers. The 계 column and the 계 row are SUM formulas, so
  a figure corrected by hand in Excel still adds up; each formula carries the
  summary engine's count as its cached result, so a viewer that does not
  calculate (a phone, a preview, a PDF converter) shows the right numbers too.
  The hidden column 검산 beside the table holds the engine's own row totals, so
  a formula that disagrees with the engine is visible to anyone who unhides it
  (and to the tests). Zeros are kept as numbers and shown blank, as the
  document prints them.
* 요구사항 — one row per recommendation: number, category, text, teams, due
  date (a real date), state, 추진내용 (or "작성 전"), 향후계획, the 미반영 사유 of a
  미반영 item, evidence count; frozen header, filters, wrapped text in rows tall
  enough for it, printed on A4 landscape one page wide with the header row on
  every page.
* 부서별 현황 — the per-team table of ``reports.teams`` for the same audit and day.
* 기한 변경 — one row per change of a due date.

Every text is written as a string, never as a formula: a text that starts like
one (``cells.looks_like_formula``) also gets Excel's quote prefix, so it shows
as written and stays text when someone edits it. The file is a function of the
report alone: its document dates are the edition's (``Report.document_day``: the day
of issue, else the reference date) and the zip entries
carry XlsxWriter's fixed timestamp, so the same report gives the same bytes.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from xlsxwriter import Workbook
from xlsxwriter.utility import xl_col_to_name

from auditflow import dates
from auditflow.outline import to_plain
from auditflow.reports.cells import looks_like_formula
from auditflow.reports.content import Report
from auditflow.reports.progress import Progress, Steps
from auditflow.reports.summary_formats import HEAD, TOTAL
from auditflow.reports.teams import COUNTING_NOTE

SUMMARY_SHEET = "총괄"
ITEMS_SHEET = "요구사항"
TEAMS_SHEET = "부서별 현황"
DUE_SHEET = "기한 변경"
CHECK_HEADER = "검산"

FONT_NAME = "맑은 고딕"
FONT_SIZE = 10
TABLE_FIRST_ROW = 6  # the 총괄 table's header row, counted from 1 (title, body, date, count line above)
ZERO_BLANK = '#,##0;-#,##0;"";@'  # numbers stay numbers; a zero shows blank as in the document
DATE_FORMAT = "yyyy-mm-dd"
HEADER_FILL = "#E5E5E5"
A4 = 9  # Excel's paper code

# (title, width in Excel's character units) of the items sheet, in column order. The
# widths add up to a row that prints on A4 landscape, one page wide, at about 87 % in
# Excel (LibreOffice, measuring them a little wider, about 82 %): the 10 pt text stays
# above 8 pt on paper. Wide columns for the texts, the rest as narrow as their header
# allows. The 기한 변경 sheet keeps to the same total.
ITEM_COLUMNS: tuple[tuple[str, float], ...] = (
    ("번호", 5),
    ("분류", 10),
    ("요구사항", 29),
    ("주관부서", 10),
    ("협조부서", 10),
    ("처리기한", 11),
    ("추진상황", 8),
    ("추진내용", 42),
    ("향후계획", 21),
    ("미반영 사유", 13),
    ("증빙자료 수", 8),
)
DUE_COLUMNS: tuple[tuple[str, float], ...] = (
    ("번호", 5), ("구분", 10), ("요구사항", 32), ("처음 기한", 11), ("현재 기한", 11),
    ("변경 횟수", 8), ("변경일", 11), ("이전 기한", 11), ("바뀐 기한", 11),
    ("방식", 10), ("처리자", 14), ("사유", 32),
)
PRINT_MARGINS = {"left": 0.3, "right": 0.3, "top": 0.6, "bottom": 0.6}  # inches

# Row heights for wrapped text. Excel does not measure text in a file it opens, so a
# row is made as tall as its longest cell needs: each line is wrapped at spaces, as
# Excel wraps, with the glyph widths of 10 pt 맑은 고딕, a little generous (a row a
# bit tall reads; a cut-off line does not).
_UNIT_PX = 7.0  # one unit of column width: the digit of the workbook's default font
_COLUMN_PADDING_PX = 5.0  # Excel adds it to every column
_CELL_PADDING_PX = 6.0  # the cell's inner margins, both sides
_WIDE_PX = 13.4  # a Hangul (or other full-width) glyph: 1 em
_NARROW_PX = 7.0  # Latin letters, digits, punctuation
_SPACE_PX = 4.0
_LINE_PT = 15.0
_ROW_PADDING_PT = 4.0
_MIN_ROW_PT = 15.0
_MAX_ROW_PT = 409.0  # Excel's limit

_HEADER: dict[str, Any] = {"bold": True, "bg_color": HEADER_FILL, "border": 1, "align": "center",
                           "valign": "vcenter", "text_wrap": True}
_LABEL: dict[str, Any] = {"border": 1, "align": "center", "valign": "vcenter", "text_wrap": True}
_NUMBER: dict[str, Any] = {"num_format": ZERO_BLANK, "border": 1, "align": "center",
                           "valign": "vcenter"}
_TOP: dict[str, Any] = {"border": 1, "valign": "top", "text_wrap": True}
_TOP_CENTER: dict[str, Any] = {**_TOP, "align": "center"}


def write(report: Report, path: Path, progress: Progress | None = None) -> None:
    Path(path).write_bytes(to_bytes(report, progress))


def to_bytes(report: Report, progress: Progress | None = None) -> bytes:
    steps = Steps(progress, len(report.items))
    buffer = io.BytesIO()
    # Texts are written as strings on purpose; nothing is guessed into a formula,
    # a number or a link.
    book = Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                             "strings_to_numbers": False, "strings_to_urls": False})
    created = datetime.combine(report.document_day, time())
    book.set_properties({"title": f"{report.title} ({report.reference_label})",
                         "author": report.organisation, "created": created})
    sheets = Sheets(book)
    _summary_sheet(sheets, book.add_worksheet(SUMMARY_SHEET), report)
    _items_sheet(sheets, book.add_worksheet(ITEMS_SHEET), report, steps.advance)
    _teams_sheet(sheets, book.add_worksheet(TEAMS_SHEET), report)
    _due_sheet(sheets, book.add_worksheet(DUE_SHEET), report)
    book.close()
    steps.finish()
    return buffer.getvalue()


class Sheets:
    """The workbook's formats, made once per set of properties, and the one way to put a value."""

    def __init__(self, book: Any) -> None:
        self.book = book
        self._formats: dict[tuple[tuple[str, Any], ...], Any] = {}

    def style(self, **props: Any) -> Any:
        merged = {"font_name": FONT_NAME, "font_size": FONT_SIZE, **props}
        key = tuple(sorted(merged.items()))
        if key not in self._formats:
            self._formats[key] = self.book.add_format(merged)
        return self._formats[key]

    def put(self, sheet: Any, row: int, col: int, value: Any, props: dict[str, Any]) -> None:
        """A number as a number, a date as a date, everything else as text (never a formula)."""
        if value is None or value == "":
            sheet.write_blank(row, col, None, self.style(**props))
        elif isinstance(value, str):
            quoted = {"quote_prefix": True} if looks_like_formula(value) else {}
            sheet.write_string(row, col, value, self.style(**props, **quoted))
        elif isinstance(value, bool):
            sheet.write_boolean(row, col, value, self.style(**props))
        elif isinstance(value, int | float):
            sheet.write_number(row, col, value, self.style(**props))
        elif isinstance(value, date):
            sheet.write_datetime(row, col, value, self.style(**props, num_format=DATE_FORMAT))
        else:
            raise TypeError(f"no cell for {value!r}")

    def heading(self, sheet: Any, report: Report, width: int) -> None:
        """Title (merged, centred), the body, the reference date (merged, right)."""
        sheet.merge_range(0, 0, 0, width - 1, report.title,
                          self.style(bold=True, font_size=16, align="center"))
        sheet.set_row(0, 24)
        self.put(sheet, 1, 0, report.organisation, {"bold": True})
        sheet.merge_range(2, 0, 2, width - 1, report.reference_label, self.style(align="right"))


def _print_setup(sheet: Any, report: Report, *, landscape: bool, title_row: int | None) -> None:
    sheet.set_paper(A4)
    if landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    sheet.fit_to_pages(1, 0)  # one page wide, as many pages long as it takes
    sheet.set_margins(**PRINT_MARGINS)
    sheet.center_horizontally()
    if title_row is not None:
        sheet.repeat_rows(title_row)
    # Public documents: what this is at the top, "- n -" at the bottom centre.
    title = f"{report.title}({report.reference_label})".replace("&", "&&")
    # (No font-size code before the title: "&9" followed by "2025" would read as one number.)
    sheet.set_header(f"&L{title}")
    sheet.set_footer("&C- &P -")


# ─── 총괄 ──────────────────────────────────────────────────────────────────────


def _summary_sheet(sheets: Sheets, sheet: Any, report: Report) -> None:
    summary = report.summary
    states = summary.columns
    width = 2 + len(states)  # 구분, 계, the states
    sheets.heading(sheet, report, width)
    sheets.put(sheet, 3, 0, f"수감결과 처리요구사항 등 총 {summary.total.total}건", {})

    top = TABLE_FIRST_ROW - 1
    check_col = width
    for col, title in enumerate([HEAD, TOTAL, *(state.label for state in states), CHECK_HEADER]):
        sheets.put(sheet, top, col, title, _HEADER)

    total_row = top + 1
    first, last = total_row + 1, total_row + len(summary.rows) - 1
    last_state = xl_col_to_name(width - 1)
    for offset, row in enumerate(summary.rows):
        r = total_row + offset
        is_total = offset == 0
        sheets.put(sheet, r, 0, row.label, {**_LABEL, "bold": is_total})
        number = sheets.style(**_NUMBER, bold=is_total)
        for col, state in enumerate(states, start=2):
            if is_total:
                letter = xl_col_to_name(col)
                sheet.write_formula(r, col, f"=SUM({letter}{first + 1}:{letter}{last + 1})",
                                    number, row.counts[state])
            else:
                sheet.write_number(r, col, row.counts[state], number)
        if is_total:
            row_total = f"=SUM(B{first + 1}:B{last + 1})"
        else:
            row_total = f"=SUM(C{r + 1}:{last_state}{r + 1})"
        # The cached result is the engine's count: what a viewer that does not calculate shows.
        sheet.write_formula(r, 1, row_total, number, row.total)
        # The engine's own total, kept beside the formula it must equal.
        sheet.write_number(r, check_col, row.total, sheets.style(**_NUMBER))

    sheet.set_column(0, 0, 22)
    sheet.set_column(1, width - 1, 11)
    sheet.set_column(check_col, check_col, 11, None, {"hidden": True})
    sheet.freeze_panes(top + 1, 0)
    _print_setup(sheet, report, landscape=False, title_row=None)


# ─── 요구사항 and 기한 변경: lists ──────────────────────────────────────────────


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
            item.details_cell,
            "\n".join(to_plain(item.future_plan)),
            item.decline_cell,
            item.evidence_count,
        ])
    return rows


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


def _list_sheet(sheets: Sheets, sheet: Any, report: Report, columns: Sequence[tuple[str, float]],
                rows: list[list[Any]], *, centered: set[int],
                on_row: Callable[[], None] | None = None) -> None:
    """A header row, then one row per entry: boxed, dates as dates, rows as tall as their
    text, the header frozen and filterable, printed A4 landscape one page wide."""
    widths = [width for _, width in columns]
    for col, (title, width) in enumerate(columns):
        sheet.set_column(col, col, width)
        sheets.put(sheet, 0, col, title, _HEADER)
    sheet.set_row(0, row_height([title for title, _ in columns], widths))
    for r, values in enumerate(rows, start=1):
        for col, value in enumerate(values):
            props = _TOP_CENTER if col + 1 in centered or isinstance(value, date) else _TOP
            sheets.put(sheet, r, col, value, props)
        sheet.set_row(r, row_height(values, widths))
        if on_row is not None:
            on_row()
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, len(rows), len(columns) - 1)
    _print_setup(sheet, report, landscape=True, title_row=0)


def _items_sheet(sheets: Sheets, sheet: Any, report: Report,
                 on_row: Callable[[], None] | None = None) -> None:
    _list_sheet(sheets, sheet, report, ITEM_COLUMNS, item_rows(report), centered={1, 7, 11},
                on_row=on_row)


def _due_sheet(sheets: Sheets, sheet: Any, report: Report) -> None:
    rows = due_rows(report)
    _list_sheet(sheets, sheet, report, DUE_COLUMNS, rows, centered={1, 6, 10})
    if not rows:
        sheets.put(sheet, 1, 0, "기한이 바뀐 요구사항이 없습니다.", {})


# ─── 부서별 현황 ───────────────────────────────────────────────────────────────


def _teams_sheet(sheets: Sheets, sheet: Any, report: Report) -> None:
    status = report.teams
    table = status.table()
    width = len(table[0])
    sheets.heading(sheet, report, width)
    sheet.merge_range(3, 0, 3, width - 1, COUNTING_NOTE, sheets.style(text_wrap=True, valign="top"))
    sheets.put(sheet, 4, 0, f"ㅇ {status.scope_label}", {"bold": True})
    widths = [22.0, *([10.0] * (width - 1))]
    sheet.set_row(3, row_height([COUNTING_NOTE], [sum(widths)]))
    top = TABLE_FIRST_ROW - 1
    _table(sheets, sheet, top, table)
    # Below it, the open items of every audit, so an item carried over from an
    # earlier year shows up at its team too.
    carried = report.carried_over
    below = top + len(table) + 2
    sheets.put(sheet, below, 0, f"ㅇ {carried.scope_label}", {"bold": True})
    _table(sheets, sheet, below + 1, carried.table())
    sheet.set_column(0, 0, widths[0])
    sheet.set_column(1, width - 1, widths[1])
    sheet.freeze_panes(top + 1, 1)
    _print_setup(sheet, report, landscape=False, title_row=top)


def _table(sheets: Sheets, sheet: Any, top: int, table: Sequence[Sequence[Any]]) -> None:
    for col, title in enumerate(table[0]):
        sheets.put(sheet, top, col, title, _HEADER)
    for offset, row in enumerate(table[1:], start=1):
        is_total = offset == 1
        for col, value in enumerate(row):
            props = _LABEL if col == 0 else _NUMBER
            sheets.put(sheet, top + offset, col, value, {**props, "bold": is_total})


# ─── row heights ──────────────────────────────────────────────────────────────


def row_height(values: Sequence[Any], widths: Sequence[float]) -> float:
    """Points: enough for the wrapped text of the row's tallest cell."""
    lines = max((wrapped_lines(value, width) for value, width in zip(values, widths, strict=True)
                 if isinstance(value, str)), default=1)
    return min(max(lines * _LINE_PT + _ROW_PADDING_PT, _MIN_ROW_PT), _MAX_ROW_PT)


def wrapped_lines(text: str, width: float) -> int:
    """How many lines ``text`` takes in a wrapping cell ``width`` units wide."""
    room = width * _UNIT_PX + _COLUMN_PADDING_PX - _CELL_PADDING_PX
    return sum(_wrap(line, room) for line in text.split("\n"))


def _glyph_px(char: str) -> float:
    if char.isspace():
        return _SPACE_PX
    return _WIDE_PX if unicodedata.east_asian_width(char) in "WF" else _NARROW_PX


def _wrap(line: str, room: float) -> int:
    """Lines of one paragraph, broken at spaces; a word longer than the cell anywhere."""
    lines, used = 1, 0.0
    for word in re.findall(r"\S+\s*|\s+", line):
        size = sum(_glyph_px(char) for char in word.rstrip())
        if used and used + size > room:
            lines, used = lines + 1, 0.0
        if size > room:
            for char in word.rstrip():
                glyph = _glyph_px(char)
                if used and used + glyph > room:
                    lines, used = lines + 1, 0.0
                used += glyph
        else:
            used += size
        used += sum(_glyph_px(char) for char in word[len(word.rstrip()):])
    return lines
