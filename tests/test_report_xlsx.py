"""The XLSX report read back with openpyxl and with LibreOffice: numbers, formulas that add up
and carry their results, items, teams, text that stays text, print setup, the same bytes."""

from __future__ import annotations

import copy
import io
import re
import zipfile
from datetime import date, datetime, timedelta

import pdfplumber
import pytest
from openpyxl import load_workbook
from openpyxl.utils import range_boundaries

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Audit
from auditflow.outline import to_plain
from auditflow.reports import writer
from auditflow.reports.cells import looks_like_formula
from auditflow.reports.content import build_report
from auditflow.reports.teams import COUNTING_NOTE, team_status
from auditflow.reports.xlsx import (
    CHECK_HEADER,
    DUE_SHEET,
    ITEM_COLUMNS,
    ITEMS_SHEET,
    SUMMARY_SHEET,
    TABLE_FIRST_ROW,
    TEAMS_SHEET,
    to_bytes,
    write,
)
from auditflow.services import recommendations as ops
from auditflow.vocabulary import Category, State
from tests.conftest import HOSTILE, OUTLINE_WITH_DASH_FIRST, OUTLINE_WITH_DASH_INSIDE, rendered
from tests.test_report_readback import calc_sheets, convert
from tests.test_seed_document import norm

REFERENCE = date(2026, 1, 31)
_SUM = re.compile(r"^=SUM\(([A-Z]+\d+:[A-Z]+\d+)\)$")


@pytest.fixture
def seed_report(seeded):
    audit = db.session.scalar(db.select(Audit).filter_by(year=2025))
    return build_report(audit, REFERENCE)


@pytest.fixture
def workbook(seed_report, tmp_path):
    path = tmp_path / "report.xlsx"
    path.write_bytes(rendered("xlsx", seed_report))
    return load_workbook(path)


def evaluate(sheet, cell):
    """The value Excel would show: numbers as they are, our SUM(range) formulas summed."""
    value = cell.value
    if isinstance(value, str) and value.startswith("="):
        match = _SUM.match(value)
        assert match, f"unexpected formula {value!r} in {cell.coordinate}"
        min_col, min_row, max_col, max_row = range_boundaries(match.group(1))
        return sum(
            evaluate(sheet, sheet.cell(row=r, column=c)) or 0
            for r in range(min_row, max_row + 1)
            for c in range(min_col, max_col + 1)
        )
    return value


def summary_grid(sheet):
    """Header and rows of the 총괄 table, starting at its header row."""
    rows = []
    for row in sheet.iter_rows(min_row=TABLE_FIRST_ROW):
        if row[0].value is None:
            break
        rows.append(row)
    return rows


def test_sheets_and_heading(workbook, seed_report):
    assert workbook.sheetnames == [SUMMARY_SHEET, ITEMS_SHEET, TEAMS_SHEET, DUE_SHEET]
    sheet = workbook[SUMMARY_SHEET]
    assert sheet["A1"].value == "2025 행정사무감사 처리결과"
    assert sheet["A2"].value == "서울AI재단"
    assert sheet["A3"].value == "'26.1.31. 기준"
    assert sheet["A4"].value == "수감결과 처리요구사항 등 총 12건"


def test_summary_numbers_formulas_and_check_column(workbook, seed_report):
    sheet = workbook[SUMMARY_SHEET]
    header, *rows = summary_grid(sheet)
    summary = seed_report.summary
    titles = [cell.value for cell in header]
    assert titles == ["구분", "계", "완료", "추진 중", "검토 중", "미반영", CHECK_HEADER]
    check = titles.index(CHECK_HEADER)
    assert sheet.column_dimensions[header[check].column_letter].hidden
    assert len(rows) == len(summary.rows) == 4
    for row, summary_row in zip(rows, summary.rows, strict=True):
        assert row[0].value == summary_row.label
        # 계 is a formula in every row; the 계 row's states are column sums.
        assert _SUM.match(row[1].value)
        assert evaluate(sheet, row[1]) == summary_row.total == row[check].value
        for cell, state in zip(row[2:check], summary.columns, strict=True):
            if summary_row.category is None:
                assert _SUM.match(cell.value)
            else:
                assert isinstance(cell.value, int)  # a number, not a string
            assert evaluate(sheet, cell) == summary_row.counts[state]
    total = rows[0]
    assert [evaluate(sheet, cell) for cell in total[1:4]] == [12, 11, 1]
    # The 총괄 count equals the number of items listed on the next sheet.
    assert evaluate(sheet, total[1]) == workbook[ITEMS_SHEET].max_row - 1 == 12


def test_items_sheet_one_row_per_recommendation(workbook, seed_report):
    sheet = workbook[ITEMS_SHEET]
    header = [cell.value for cell in sheet[1]]
    assert header == [title for title, _ in ITEM_COLUMNS]
    assert header == ["번호", "분류", "요구사항", "주관부서", "협조부서", "처리기한", "추진상황",
                      "추진내용", "향후계획", "미반영 사유", "증빙자료 수"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:K13"
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(seed_report.items) == 12
    for row, item in zip(rows, seed_report.items, strict=True):
        number, category, text, lead, support, due, state, details, plan, declined, evidence = row
        assert number == item.number
        assert category == item.category.label
        assert text == item.council_text
        assert lead == item.lead_team
        assert (support or "") == ", ".join(item.supporting_teams)
        assert isinstance(due, datetime) and due.date() == item.due_date  # a real date
        assert state == item.state.label
        assert details.split("\n") == to_plain(item.action_details)
        assert (plan or "") == "\n".join(to_plain(item.future_plan))
        assert declined is None  # no item of the seed is 미반영
        assert evidence == item.evidence_count
    states = [row[6] for row in rows]
    assert states.count("완료") == 11 and states.count("추진 중") == 1
    assert sheet["F2"].number_format == "yyyy-mm-dd"
    assert sheet["H2"].alignment.wrap_text
    # The texts get the wide columns: 추진내용 the widest, then 요구사항.
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEFGHIJK"}
    assert sorted(widths, key=widths.get)[-2:] == ["C", "H"]


def test_teams_sheet_is_the_per_team_view(workbook, seed_report):
    sheet = workbook[TEAMS_SHEET]
    assert sheet["A4"].value == COUNTING_NOTE
    expected = team_status(seed_report.audit, seed_report.as_of).table()
    got = [[cell.value for cell in row]
           for row in sheet.iter_rows(min_row=TABLE_FIRST_ROW,
                                      max_row=TABLE_FIRST_ROW + len(expected) - 1,
                                      max_col=len(expected[0]))]
    assert got == expected
    assert got[1][:2] == ["계", 12]
    assert sum(row[1] for row in got[2:]) == 12
    # Then the open items of every audit, by team.
    carried = team_status(None, seed_report.as_of).table()
    below = TABLE_FIRST_ROW + len(expected) + 2
    assert sheet.cell(row=below, column=1).value == "ㅇ 전체 감사의 미완료 요구사항"
    got_open = [[cell.value for cell in row]
                for row in sheet.iter_rows(min_row=below + 1, max_row=below + len(carried),
                                           max_col=len(carried[0]))]
    assert got_open == carried
    assert got_open[1][:2] == ["계", 1]


def test_received_column_overdue_and_empty_plans(make, tmp_path):
    audit = make.audit(2025)
    auditor = make.user("audit")
    late = make.recommendation(audit=audit, state="in_progress", category=Category.CORRECTIVE)
    ops.set_due_date(late, auditor, dates.today() - timedelta(days=3))
    make.recommendation(audit=audit, state="received", category=Category.OTHER)
    db.session.commit()
    report = build_report(audit)
    path = tmp_path / "r.xlsx"
    writer("xlsx")(report, path)
    book = load_workbook(path)
    sheet = book[SUMMARY_SHEET]
    header, total, *_ = summary_grid(sheet)
    titles = [cell.value for cell in header]
    assert "접수" in titles
    assert evaluate(sheet, total[titles.index("접수")]) == 1
    assert evaluate(sheet, total[titles.index("추진 중")]) == 1
    teams = book[TEAMS_SHEET]
    team_header = [cell.value for cell in teams[TABLE_FIRST_ROW]]
    team_total = [cell.value for cell in teams[TABLE_FIRST_ROW + 1]]
    assert team_total[team_header.index("기한 경과")] == 1
    items = book[ITEMS_SHEET]
    assert [row[6] for row in items.iter_rows(min_row=2, values_only=True)] == [
        State.IN_PROGRESS.label, State.RECEIVED.label]


@pytest.mark.parametrize("day", [date(2025, 11, 20), date(2026, 1, 27), REFERENCE])
def test_an_earlier_reference_date_gives_that_days_numbers(seeded, tmp_path, day):
    from auditflow.reports.summary import summarize

    audit = db.session.scalar(db.select(Audit).filter_by(year=2025))
    report = build_report(audit, day)
    path = tmp_path / "r.xlsx"
    write(report, path)
    sheet = load_workbook(path)[SUMMARY_SHEET]
    header, *rows = summary_grid(sheet)
    titles = [cell.value for cell in header]
    summary = summarize(audit, day)
    for row, summary_row in zip(rows, summary.rows, strict=True):
        assert evaluate(sheet, row[1]) == summary_row.total
        for state in summary.columns:
            assert evaluate(sheet, row[titles.index(state.label)]) == summary_row.counts[state]
    assert sheet["A3"].value == f"{dates.short(day)} 기준"


# --- formulas with their results, for viewers that do not calculate ------------------------------


def test_every_formula_carries_the_engines_count_as_its_result(seed_report, tmp_path):
    path = tmp_path / "report.xlsx"
    path.write_bytes(rendered("xlsx", seed_report))
    formulas = load_workbook(path)[SUMMARY_SHEET]
    cached = load_workbook(path, data_only=True)[SUMMARY_SHEET]
    header, *rows = summary_grid(formulas)
    check = [cell.value for cell in header].index(CHECK_HEADER)
    seen = 0
    for row in rows:
        for cell in row[1:check]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                seen += 1
                assert cached[cell.coordinate].value == evaluate(formulas, cell), cell.coordinate
    assert seen == len(rows) + len(seed_report.summary.columns)  # every 계, the whole 계 row
    total = [cached.cell(row=TABLE_FIRST_ROW + 1, column=col).value for col in (2, 3, 4)]
    assert total == [12, 11, 1]


# --- the items sheet: rows tall enough, printed readable on A4 landscape -------------------------

A4_LANDSCAPE_INCHES = 297 / 25.4


@pytest.mark.file_format
def test_item_rows_are_tall_enough_for_their_lines(workbook):
    sheet = workbook[ITEMS_SHEET]
    for r in range(2, sheet.max_row + 1):
        values = [cell.value for cell in sheet[r]]
        lines = max(str(value).count("\n") + 1 for value in values if value is not None)
        height = sheet.row_dimensions[r].height
        # At least one 10 pt line per written line, wrapped ones more; within Excel's limit.
        assert height is not None and lines * 13 <= height <= 409, (r, lines, height)
    heights = [sheet.row_dimensions[r].height for r in range(2, sheet.max_row + 1)]
    assert len(set(heights)) > 1  # rows follow their text, not one height for all


@pytest.mark.file_format
@pytest.mark.parametrize("name", [ITEMS_SHEET, DUE_SHEET])
def test_list_sheets_print_one_page_wide_on_a4_landscape(workbook, name):
    sheet = workbook[name]
    setup = sheet.page_setup
    assert (setup.paperSize, setup.orientation) == (9, "landscape")
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (setup.fitToWidth, setup.fitToHeight) in {(1, 0), (None, 0)}  # 1 is the default
    assert sheet.print_title_rows in {"1:1", "$1:$1"}  # the header row on every page
    # Excel's width unit is 7 px (+5 px a column) at 96 px an inch: the scale it will
    # print at keeps the 10 pt text at 8 pt or more.
    margins = sheet.page_margins
    room = (A4_LANDSCAPE_INCHES - margins.left - margins.right) * 96
    row = sum(int(sheet.column_dimensions[cell.column_letter].width * 7 + 0.5) + 5
              for cell in sheet[1])
    assert min(1.0, room / row) * 10 >= 8
    assert "- &P -" in sheet.oddFooter.center.text


# --- text that looks like a formula ----------------------------------------------------------------

def test_text_that_looks_like_a_formula_is_written_as_text(hostile_report, tmp_path):
    path = tmp_path / "hostile.xlsx"
    write(hostile_report, path)
    book = load_workbook(path)
    formulas = [(sheet.title, cell.coordinate) for sheet in book.worksheets
                for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]
    assert all(title == SUMMARY_SHEET for title, _ in formulas)  # only our own SUM formulas
    sheet = book[ITEMS_SHEET]
    rows = list(sheet.iter_rows(min_row=2))
    for row, item in zip(rows[:len(HOSTILE)], hostile_report.items, strict=False):
        council, lead = row[2], row[3]
        assert looks_like_formula(item.council_text)
        assert (council.value, council.data_type) == (item.council_text, "s")
        assert council.quotePrefix and lead.quotePrefix  # still text after an edit in Excel
        assert lead.value == "=팀"
    for outline, text in zip(rows[len(HOSTILE):], (OUTLINE_WITH_DASH_FIRST,
                                                   OUTLINE_WITH_DASH_INSIDE), strict=True):
        assert outline[7].value.split("\n") == to_plain(text)  # "- " lines as written
        assert not outline[2].quotePrefix  # ordinary text gets no prefix


@pytest.mark.file_format
def test_libreoffice_reads_those_texts_as_text(hostile_report, tmp_path):
    path = tmp_path / "hostile.xlsx"
    write(hostile_report, path)
    items = calc_sheets(path, tmp_path / "calc")[ITEMS_SHEET]
    assert [row[2] for row in items[1:]] == [item.council_text for item in hostile_report.items]
    assert {row[3] for row in items[1:]} == {"=팀"}


# --- the same report gives the same bytes ---------------------------------------------------------


@pytest.mark.file_format
def test_the_same_report_gives_the_same_bytes(seed_report):
    first = to_bytes(seed_report)
    assert to_bytes(seed_report) == first
    book = load_workbook(io.BytesIO(first))
    # The document's dates are the reference date, not the moment it was written.
    assert book.properties.created == book.properties.modified == datetime(2026, 1, 31)
    assert book.properties.title == "2025 행정사무감사 처리결과 ('26.1.31. 기준)"
    assert book.properties.creator == "서울AI재단"
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


# --- LibreOffice, an independent reader -------------------------------------------------------------


_CALC: dict[bytes, tuple[dict[str, list[list[str]]], bytes]] = {}


@pytest.fixture
def calc(seed_report, tmp_path):
    """The seed's workbook as LibreOffice reads it: every sheet's cells, and its PDF (read
    once per worker for the same workbook, by the tests that look at different parts)."""
    data = rendered("xlsx", seed_report)
    if data not in _CALC:
        path = tmp_path / "report.xlsx"
        path.write_bytes(data)
        sheets = calc_sheets(path, tmp_path / "csv")
        [pdf_path] = [p for p in convert([path], "pdf", tmp_path / "pdf") if p.suffix == ".pdf"]
        _CALC[data] = (sheets, pdf_path.read_bytes())
    sheets, printed = _CALC[data]
    return copy.deepcopy(sheets), printed


@pytest.mark.file_format
def test_libreoffice_reads_every_sheet(calc, seed_report):
    sheets, _ = calc
    assert set(sheets) == {SUMMARY_SHEET, ITEMS_SHEET, TEAMS_SHEET, DUE_SHEET}
    summary = sheets[SUMMARY_SHEET]
    assert summary[0][0] == "2025 행정사무감사 처리결과"
    assert summary[2][0] == "'26.1.31. 기준"
    table = summary[TABLE_FIRST_ROW - 1:TABLE_FIRST_ROW + len(seed_report.summary.rows)]
    # As the document prints it (zeros blank), plus the hidden 검산 column.
    assert [row[:-1] for row in table] == seed_report.table()
    assert table[1][:4] == ["계", "12", "11", "1"]
    items = sheets[ITEMS_SHEET]
    assert items[0] == [title for title, _ in ITEM_COLUMNS]
    assert len(items) - 1 == seed_report.total
    for row, item in zip(items[1:], seed_report.items, strict=True):
        assert row[0] == str(item.number)
        assert row[2] == item.council_text
        assert row[5] == item.due_date.isoformat()
        assert row[7].split("\n") == to_plain(item.action_details)
    teams = sheets[TEAMS_SHEET]
    assert teams[TABLE_FIRST_ROW][:2] == ["계", "12"]


def _column_text(page, header: str) -> str:  # type: ignore[no-untyped-def]
    """The normalised text of the table column headed ``header`` on ``page`` (between rules)."""
    [word] = [w for w in page.extract_words() if w["text"] == header]
    rules = sorted({round(line["x0"], 1) for line in page.lines if abs(line["x0"] - line["x1"]) < 1}
                   | {round(rect["x0"], 1) for rect in page.rects if rect["width"] < 1})
    left = max(x for x in rules if x <= word["x0"])
    right = min(x for x in rules if x >= word["x1"])
    return norm(page.crop((left, 0, right, page.height)).extract_text() or "")


@pytest.mark.file_format
def test_libreoffice_prints_the_items_whole_and_readable(calc, seed_report):
    _, data = calc
    pages = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            assert sorted((round(page.width), round(page.height))) == [595, 842]  # A4
            if "추진내용" in (page.extract_text() or ""):
                pages.append((page.width > page.height, min(char["size"] for char in page.chars),
                              _column_text(page, "요구사항"), _column_text(page, "추진내용")))
    assert pages and all(landscape for landscape, *_ in pages)
    assert min(size for _, size, *_ in pages) >= 8  # the scale keeps 10 pt text at 8 pt or more
    councils = "".join(council for *_, council, _ in pages)
    details = "".join(detail for *_, detail in pages)
    # Every line of every item is on paper: no row cuts its text off.
    for item in seed_report.items:
        assert norm(item.council_text) in councils, item.number
        for line in to_plain(item.action_details):
            assert norm(line) in details, (item.number, line)


@pytest.mark.parametrize(("value", "formula_like"), [
    ("=1+1", True), ("+1", True), ("-1", True), ("- 세부 내용", True), ("@SUM(1)", True),
    ("\t=1", True), ("\r=1", True), ("ㅇ 조치 완료", False), (" - 들여 쓴 줄", False),
    ("'26.1.31. 기준", False), ("", False), (12, False), (None, False),
])
def test_what_counts_as_formula_like(value, formula_like):
    assert looks_like_formula(value) is formula_like
