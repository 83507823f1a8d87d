"""The XLSX report read back with openpyxl: numbers, formulas that add up, items, teams."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from openpyxl.utils import range_boundaries

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Audit
from auditflow.outline import to_plain
from auditflow.reports import writer
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
    write,
)
from auditflow.services import recommendations as ops
from auditflow.vocabulary import Category, State
from tests.conftest import rendered

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
                      "추진내용", "향후계획", "증빙자료 수"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:J13"
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(seed_report.items) == 12
    for row, item in zip(rows, seed_report.items, strict=True):
        number, category, text, lead, support, due, state, details, plan, evidence = row
        assert number == item.number
        assert category == item.category.label
        assert text == item.council_text
        assert lead == item.lead_team
        assert (support or "") == ", ".join(item.supporting_teams)
        assert isinstance(due, datetime) and due.date() == item.due_date  # a real date
        assert state == item.state.label
        assert details.split("\n") == to_plain(item.action_details)
        assert (plan or "") == "\n".join(to_plain(item.future_plan))
        assert evidence == item.evidence_count
    states = [row[6] for row in rows]
    assert states.count("완료") == 11 and states.count("추진 중") == 1
    assert sheet["F2"].number_format == "yyyy-mm-dd"
    assert sheet["H2"].alignment.wrap_text
    assert sheet.column_dimensions["C"].width >= 40


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
