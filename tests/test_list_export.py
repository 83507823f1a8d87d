"""The list as filtered, as XLSX and CSV: the filter and the day on the first line, only
what the user may see, and texts that start like a formula kept as text."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from auditflow.services import recommendations as ops
from tests.pages_helpers import client_for


def _xlsx_rows(response):
    sheet = load_workbook(io.BytesIO(response.data))["요구사항 목록"]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_export_is_the_filtered_list_with_its_conditions(app, make):
    team, other = make.team("AI동행팀"), make.team("다른팀")
    audit = make.audit(title="2026 행정사무감사")
    mine = make.recommendation(audit=audit, lead=team, state="in_progress", text="=HYPERLINK(\"x\")")
    make.recommendation(audit=audit, lead=team)  # 접수: filtered out by the state
    theirs = make.recommendation(audit=audit, lead=other, state="in_progress", text="다른 팀 것")
    ops.set_due_date(mine, make.user("audit"), None)
    client = client_for(app, make.user("audit"))

    response = client.get(f"/recommendations/export.xlsx?audit={audit.id}&state=in_progress")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _xlsx_rows(response)
    assert rows[0][0].startswith("검색 조건: 감사: 2026 행정사무감사 · 상태: 추진 중 · ")
    assert rows[0][0].endswith("기준 2건")
    assert rows[1][:4] == ["감사", "번호", "구분", "요구사항"]
    assert sorted(row[1] for row in rows[2:]) == sorted([mine.number, theirs.number])
    formula_like = next(row for row in rows[2:] if row[1] == mine.number)
    assert formula_like[3] == "=HYPERLINK(\"x\")"  # a string, never a formula
    book = load_workbook(io.BytesIO(response.data))
    cell = next(c for c in book["요구사항 목록"]["D"] if c.value == "=HYPERLINK(\"x\")")
    assert cell.data_type == "s"

    as_csv = client.get(f"/recommendations/export.csv?audit={audit.id}&state=in_progress")
    text = as_csv.data.decode("utf-8")
    assert text.startswith("\ufeff검색 조건: 감사: 2026 행정사무감사")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert any(line[3] == "'=HYPERLINK(\"x\")" for line in lines[2:])  # the OWASP apostrophe


def test_a_department_exports_only_its_own_items(app, make):
    team, other = make.team(), make.team()
    audit = make.audit()
    mine = make.recommendation(audit=audit, lead=team, text="우리 팀 요구사항")
    make.recommendation(audit=audit, lead=other, text="다른 팀 요구사항")
    client = client_for(app, make.user("department", team=team))
    rows = _xlsx_rows(client.get(f"/recommendations/export.xlsx?audit={audit.id}"))
    assert [row[3] for row in rows[2:]] == ["우리 팀 요구사항"]
    assert rows[0][0].endswith("기준 1건") and mine.number == rows[2][1]


def test_an_unknown_format_is_not_found(app, make):
    client = client_for(app, make.user("liaison"))
    assert client.get("/recommendations/export.pdf").status_code == 404
