"""The report says all it should (issue 9, item 7): a 미반영 item shows its 미반영 사유, an item
with nothing written shows "□ 추진내용 : 작성 전", as of any day and in every format."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from auditflow import dates
from auditflow.extensions import db
from auditflow.reports import csv_items, html, hwpx, pdf, xlsx
from auditflow.reports.content import build_report, to_text
from auditflow.services import recommendations as ops
from auditflow.vocabulary import Category, State
from tests.test_report_hwpx import tables
from tests.test_report_readback import read_csv, read_html, read_pdf
from tests.test_seed_document import norm

REASON = "예산이 확보되지 않아 반영하지 않음"
FIRST_REASON, SECOND_REASON = "시설 여건상 어려움", "관련 조례 개정 전까지 반영 불가"


@pytest.fixture
def story(make):
    """Four items of one audit, registered 20 days ago:

    1. written and submitted, declined 10 days ago with ``REASON``;
    2. received, never written;
    3. started 20 days ago, written only 5 days ago;
    4. declined 10 days ago (``FIRST_REASON``), reopened 8 days ago, declined again 5 days ago
       (``SECOND_REASON``).
    """
    today = dates.today()
    day = {n: today - timedelta(days=n) for n in (20, 10, 8, 6, 5)}
    audit = make.audit()
    auditor = make.user("audit")
    team = make.team()
    worker = make.user("department", team=team)
    items = {
        number: ops.register(audit, number=number, category=Category.SUGGESTION,
                             council_text=f"{number}번 요구사항", actor=auditor, lead_team=team,
                             at=dates.at_local(day[20]))
        for number in (1, 2, 3, 4)
    }
    for number in (1, 3, 4):
        ops.fire(items[number], "start", worker, at=dates.at_local(day[20], 10))
    for number in (1, 4):
        ops.edit_result(items[number], worker, action_details="ㅇ 검토 결과 보고\n  - 세부 검토",
                        future_plan=None, at=dates.at_local(day[20], 11))
        ops.fire(items[number], "submit", worker, at=dates.at_local(day[10], 9))
    ops.fire(items[1], "decline", auditor, reason=REASON, confirmed=True,
             at=dates.at_local(day[10], 10))
    ops.fire(items[4], "decline", auditor, reason=FIRST_REASON, confirmed=True,
             at=dates.at_local(day[10], 10))
    ops.fire(items[4], "reopen", auditor, reason="재검토 요청", confirmed=True,
             at=dates.at_local(day[8]))
    ops.fire(items[4], "submit", worker, at=dates.at_local(day[6]))
    ops.fire(items[4], "decline", auditor, reason=SECOND_REASON, confirmed=True,
             at=dates.at_local(day[5], 10))
    ops.edit_result(items[3], worker, action_details="ㅇ 늦게 쓴 조치", future_plan="ㅇ 다음 계획",
                    at=dates.at_local(day[5], 11))
    db.session.commit()
    return audit, day


def _items(report):
    return {item.number: item for item in report.items}


def test_the_content_model_words_the_right_cell(story):
    audit, _ = story
    items = _items(build_report(audit))
    assert items[1].result_lines() == [
        "□ 추진상황 : 미반영", "□ 미반영 사유", f" {REASON}",
        "□ 추진내용", " ㅇ 검토 결과 보고", "   - 세부 검토"]
    assert items[2].result_lines() == ["□ 추진상황 : 접수", "□ 추진내용 : 작성 전"]
    assert items[3].result_lines() == [
        "□ 추진상황 : 추진중", "□ 추진내용", " ㅇ 늦게 쓴 조치", "□ 향후계획", " ㅇ 다음 계획"]
    assert items[4].decline_reason == SECOND_REASON
    # No empty heading anywhere: every "□" line either says something or has lines below it.
    text = to_text(build_report(audit))
    assert "□ 추진내용\n\n" not in text and not text.rstrip().endswith("□ 추진내용")


def test_as_of_a_day_the_reason_and_the_writing_are_that_days(story):
    audit, day = story
    before = _items(build_report(audit, day[10] - timedelta(days=1)))
    assert before[1].state is State.IN_PROGRESS and before[1].decline_reason is None
    assert "□ 미반영 사유" not in before[1].result_lines()
    declined = _items(build_report(audit, day[10]))
    assert declined[1].result_lines()[:3] == ["□ 추진상황 : 미반영", "□ 미반영 사유", f" {REASON}"]
    assert declined[4].decline_reason == FIRST_REASON
    assert declined[3].result_lines() == ["□ 추진상황 : 추진중", "□ 추진내용 : 작성 전"]
    reopened = _items(build_report(audit, day[8]))[4]
    assert reopened.state is State.IN_PROGRESS and reopened.decline_reason is None
    assert not any(line.startswith("□ 미반영 사유") for line in reopened.result_lines())
    # Declined again: the latest decline's reason, in the report of that day and of today.
    assert _items(build_report(audit, day[5]))[4].decline_reason == SECOND_REASON
    assert _items(build_report(audit, day[5])) == _items(build_report(audit))


def test_every_format_prints_the_same_words(story, tmp_path):
    audit, _ = story
    report = build_report(audit)
    items = _items(report)
    declined, unwritten = items[1], items[2]

    # HTML (and the summary page, which uses the same macro) and PDF.
    document = read_html(html.render(report))
    rights = {number: right for number, _state, _left, right in document.items}
    for item in report.items:
        assert norm(rights[item.number]) == norm("".join(item.result_lines())), item.number
    assert norm(f"□ 미반영 사유 {REASON}") in norm(rights[1])
    printed = read_pdf(pdf.render(report))
    assert norm("".join(declined.result_lines())) in printed.right
    assert norm("".join(unwritten.result_lines())) in printed.right

    # HWPX: the right cell, line by line.
    cells = {row[0]: row[1].split("\n") for row in tables(hwpx.to_bytes(report))[1][1:]}
    for item in report.items:
        assert cells[item.council_line] == item.result_lines(), item.number

    # XLSX: 추진내용 says "작성 전", the 미반영 사유 column holds the reason.
    sheet = load_workbook(io.BytesIO(xlsx.to_bytes(report)))[xlsx.ITEMS_SHEET]
    header = [cell.value for cell in sheet[1]]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    details, reason = header.index("추진내용"), header.index("미반영 사유")
    assert rows[2][details] == "작성 전" and rows[2][reason] is None
    assert (rows[1][header.index("추진상황")], rows[1][reason]) == ("미반영", REASON)
    assert rows[4][reason] == SECOND_REASON
    assert rows[3][reason] is None

    # CSV: the same.
    csv_rows = read_csv(csv_items.render(report).encode("utf-8"))
    header, body = csv_rows[0], {int(row[0]): row for row in csv_rows[1:]}
    details, reason = header.index("추진내용"), header.index("미반영 사유")
    assert body[2][details] == "작성 전" and body[2][reason] == ""
    assert (body[1][header.index("추진상황")], body[1][reason]) == ("미반영", REASON)
    assert body[1][details] == declined.action_details
    assert body[4][reason] == SECOND_REASON
