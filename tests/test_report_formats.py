"""Each format of the seed's report, read back, shows the summary engine's numbers and the items."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from fontTools.ttLib import TTCollection, TTFont
from openpyxl import load_workbook

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Audit
from auditflow.reports import csv_items, html, pdf
from auditflow.reports.cells import looks_like_formula
from auditflow.reports.content import build_report
from auditflow.services import recommendations as ops
from auditflow.vocabulary import Category, State
from tests.conftest import HOSTILE, OUTLINE_WITH_DASH_FIRST, OUTLINE_WITH_DASH_INSIDE, rendered
from tests.test_report_readback import CALC_CSV, convert, in_order, read_csv, read_html, read_pdf
from tests.test_seed_document import norm

REFERENCE = date(2026, 1, 31)
NOTO_KR = "Noto Sans CJK KR"
NOTO_PDF_NAME = "Noto-Sans-CJK-KR"  # the base font name WeasyPrint gives the embedded face
NOTO_FILES = {
    "regular": Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    "bold": Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
}


@pytest.fixture
def report(seeded):
    audit = db.session.scalar(db.select(Audit).filter_by(year=2025))
    return build_report(audit, REFERENCE)


# --- HTML ---------------------------------------------------------------------------------------


def test_html_shows_the_summary_and_every_item(report):
    document = read_html(html.render(report))
    assert document.title == "2025 행정사무감사 처리결과('26.1.31. 기준)"
    assert document.h1 == report.title
    assert document.organisation == report.organisation
    assert document.reference == "'26.1.31. 기준"
    assert document.count_line.endswith(f"총 {report.summary.total.total}건")
    assert document.summary == report.table()
    assert document.summary[1][:4] == ["계", "12", "11", "1"]  # the work report's 총괄
    assert document.headings == ["□ 총 괄", *[section.heading for section in report.sections]]
    assert document.column_headers == [[s.left_header, s.right_header] for s in report.sections]
    assert [number for number, *_ in document.items] == [item.number for item in report.items]
    for (number, state, left, right), item in zip(document.items, report.items, strict=True):
        assert state == item.state.value
        assert norm(left) == norm(item.council_line), number
        assert norm(right) == norm("".join(item.result_lines())), number
    # 총괄 counts equal the rows listed below them.
    assert int(document.summary[1][1]) == len(document.items)


def test_html_is_a_printable_a4_document(report):
    text = html.render(report)
    assert text.startswith("<!doctype html>")
    assert "size: A4" in text
    assert "margin: 30mm 15mm 15mm 20mm" in text
    assert "counter(page)" in text
    assert "display: table-header-group" in text
    assert "break-inside: avoid" in text
    assert "<script" not in text


def test_html_escapes_the_texts(make):
    audit = make.audit()
    auditor = make.user("audit")
    ops.register(audit, number=1, category=Category.CORRECTIVE, actor=auditor,
                 council_text="<script>alert(1)</script> & 검토")
    document = html.render(build_report(audit))
    assert "<script>alert(1)" not in document
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 검토" in document


def test_outline_nesting_is_kept(make):
    audit = make.audit()
    rec = make.recommendation(audit=audit, state="in_progress")
    worker = make.user("department", team=rec.lead_team)
    ops.edit_result(rec, worker, action_details="ㅇ 첫째\n  - 둘째\n    ※ 셋째", future_plan="ㅇ 계획")
    document = html.render(build_report(audit))
    assert '<p class="outline-line outline-level-0"><span class="outline-marker">ㅇ</span> 첫째</p>' in document
    assert '<p class="outline-line outline-level-1"><span class="outline-marker">-</span> 둘째</p>' in document
    assert '<p class="outline-line outline-level-2"><span class="outline-marker">※</span> 셋째</p>' in document
    assert "□ 향후계획" in document


# --- PDF ----------------------------------------------------------------------------------------


@pytest.fixture
def seed_pdf(report):
    return read_pdf(rendered("pdf", report))


@pytest.mark.file_format
def test_pdf_shows_the_summary_and_every_item(report, seed_pdf):
    text = norm(seed_pdf.text)
    for needle in (report.title, report.organisation, report.reference_label, "□ 총  괄",
                   f"총 {report.summary.total.total}건"):
        assert norm(needle) in text, needle
    assert seed_pdf.summary == report.table()
    # Every item, in order: its council text in the left column, its result in the right one.
    councils = in_order(seed_pdf.left, [norm(item.council_line) for item in report.items])
    results = in_order(seed_pdf.right, [norm("".join(item.result_lines())) for item in report.items])
    assert -1 not in councils, [item.number for item, p in zip(report.items, councils, strict=True) if p < 0]
    assert -1 not in results, [item.number for item, p in zip(report.items, results, strict=True) if p < 0]
    assert seed_pdf.left.count(norm("ㅇ")) >= report.total


@pytest.mark.file_format
def test_pdf_has_page_numbers(seed_pdf):
    assert seed_pdf.pages >= 2
    for page in range(1, seed_pdf.pages + 1):
        assert f"- {page} -" in seed_pdf.text


def _cmap_primary() -> set[int]:
    codepoints: set[int] = set()
    for path in pdf.primary_font_files().values():
        codepoints |= set(TTFont(path).getBestCmap())
    return codepoints


def _cmap_fallback() -> set[int]:
    codepoints: set[int] = set()
    for path in NOTO_FILES.values():
        assert path.is_file(), f"{path} missing: apt-get install fonts-noto-cjk"
        faces = [f for f in TTCollection(path).fonts if f["name"].getDebugName(1) == NOTO_KR]
        assert faces, f"no {NOTO_KR} face in {path}"
        codepoints |= set(faces[0].getBestCmap())
    return codepoints


def _check_every_glyph(chars: list[tuple[str, str]], primary: set[int], fallback: set[int]) -> None:
    for char, font in chars:
        if font.startswith("Pretendard-GOV"):
            assert ord(char) in primary, f"{char!r} drawn from Pretendard GOV, which lacks it"
        elif font.startswith(NOTO_PDF_NAME):
            assert ord(char) in fallback, f"{char!r} drawn from {font}, which lacks it"
        else:
            pytest.fail(f"{char!r} drawn from an unexpected font {font}")


@pytest.mark.file_format
def test_pdf_embeds_only_the_chosen_fonts_and_every_glyph_exists(report, seed_pdf):
    primary, fallback = _cmap_primary(), _cmap_fallback()
    # Every character of the report exists in one of the fonts the PDF names.
    from auditflow.reports.content import to_text

    missing = sorted({ch for ch in to_text(report) if not ch.isspace()
                      and ord(ch) not in primary and ord(ch) not in fallback})
    assert missing == []
    assert all(font.startswith(("Pretendard-GOV", NOTO_PDF_NAME)) for font in seed_pdf.fonts), (
        seed_pdf.fonts)
    assert "Pretendard-GOV" in seed_pdf.fonts
    _check_every_glyph(seed_pdf.chars, primary, fallback)
    drawn = {char for char, _ in seed_pdf.chars}
    assert set(norm(to_text(report))) - {"·"} <= drawn | {"|"}


@pytest.mark.file_format
def test_pdf_symbols_missing_from_pretendard_come_from_noto(make):
    symbols = "△㎡市"
    primary, fallback = _cmap_primary(), _cmap_fallback()
    lacking = [ch for ch in symbols if ord(ch) not in primary]
    assert lacking, "the test needs symbols the Pretendard GOV subset lacks"
    audit = make.audit()
    auditor = make.user("audit")
    ops.register(audit, number=1, category=Category.OTHER, actor=auditor,
                 council_text=f"면적 100㎡ 시설 {symbols} 점검 바람.")
    result = read_pdf(pdf.render(build_report(audit)))
    assert any(font.startswith(NOTO_PDF_NAME) for font in result.fonts), result.fonts
    _check_every_glyph(result.chars, primary, fallback)
    fonts_of = {char: font for char, font in result.chars}
    for ch in lacking:
        assert fonts_of[ch].startswith(NOTO_PDF_NAME), ch
    assert "100㎡" in result.text and symbols in result.text


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_rows_are_the_items(report):
    data = csv_items.render(report).encode("utf-8")
    rows = read_csv(data)
    assert rows[0] == ["번호", "분류", "요구사항", "주관부서", "협조부서", "처리기한", "추진상황",
                       "추진내용", "향후계획", "미반영 사유", "증빙자료 수", "기준일"]
    body = rows[1:]
    assert len(body) == report.summary.total.total == report.total
    for row, item in zip(body, report.items, strict=True):
        assert row[0] == str(item.number)
        assert row[1] == item.category.label
        assert row[2] == item.council_text
        assert row[3] == (item.lead_team or "")
        assert row[4] == ", ".join(item.supporting_teams)
        assert row[5] == (item.due_date.isoformat() if item.due_date else "")
        assert row[6] == item.state.report_label
        assert row[7] == item.action_details
        assert row[8] == (item.future_plan or "")
        assert row[9] == ""  # 미반영 사유: no item of the seed is 미반영
        assert row[10] == str(item.evidence_count)
        assert row[11] == "'26.1.31. 기준"
    # The summary engine's counts, recounted from the rows.
    for summary_row in report.summary.rows[1:]:
        listed = [row for row in body if row[1] == summary_row.category.label]
        assert len(listed) == summary_row.total
        assert sum(row[6] == "추진완료" for row in listed) == summary_row.counts[State.COMPLETED]
    assert sum(row[6] == "추진완료" for row in body) == 11 and sum(row[6] == "추진중" for row in body) == 1


def test_csv_file_has_bom_and_crlf(report, tmp_path):
    path = tmp_path / "items.csv"
    csv_items.write(report, path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") >= report.total + 1
    assert read_csv(data)[1][0] == "1"


def test_csv_cells_that_start_like_a_formula_get_an_apostrophe(hostile_report):
    rows = read_csv(csv_items.render(hostile_report).encode("utf-8"))[1:]
    for row, item in zip(rows, hostile_report.items, strict=True):
        raw = csv_items._values(item, hostile_report.reference_label)
        for cell, value in zip(row, raw, strict=True):
            expected = f"'{value}" if looks_like_formula(value) else str(value)
            assert cell == expected, (item.number, value)
    by_number = {int(row[0]): row for row in rows}
    assert by_number[1][2].startswith("'=HYPERLINK(") and by_number[1][3] == "'=팀"
    # Only the start of a cell counts: "- " lines inside a 추진내용 read as written.
    first, inside = by_number[len(HOSTILE) + 1], by_number[len(HOSTILE) + 2]
    assert first[7] == "'" + OUTLINE_WITH_DASH_FIRST
    assert inside[7] == OUTLINE_WITH_DASH_INSIDE
    assert rows[0][11] == hostile_report.reference_label  # its apostrophe is no trigger: untouched


@pytest.mark.file_format
def test_libreoffice_evaluates_no_cell_of_the_csv(hostile_report, tmp_path):
    source = tmp_path / "items.csv"
    csv_items.write(hostile_report, source)
    [converted] = [path for path in convert([source], "xlsx", tmp_path / "calc", infilter=CALC_CSV)
                   if path.suffix == ".xlsx"]
    sheet = load_workbook(converted).active
    assert [cell.coordinate for row in sheet.iter_rows() for cell in row
            if cell.data_type == "f"] == []
    texts = [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert texts == [f"'{i.council_text}" if looks_like_formula(i.council_text) else i.council_text
                     for i in hostile_report.items]


# --- as of a day, in every format ---------------------------------------------------------------


def test_every_format_differs_by_the_transition_only(make, tmp_path):
    today = dates.today()
    before_day, day = today - timedelta(days=6), today - timedelta(days=5)
    audit = make.audit()
    auditor = make.user("audit")
    team = make.team()
    worker = make.user("department", team=team)
    recs = [ops.register(audit, number=n, category=Category.SUGGESTION, council_text=f"{n}번 요구",
                         actor=auditor, lead_team=team, at=dates.at_local(before_day - timedelta(days=3)))
            for n in (1, 2)]
    ops.fire(recs[1], "start", worker, at=dates.at_local(day, 15))
    db.session.commit()
    before, after = build_report(audit, before_day), build_report(audit, day)

    html_before, html_after = read_html(html.render(before)), read_html(html.render(after))
    assert html_before.items[0] == html_after.items[0]
    assert html_before.items[1][1:] != html_after.items[1][1:]
    assert "□ 추진상황 : 접수" in html_before.items[1][3]
    assert "□ 추진상황 : 추진중" in html_after.items[1][3]
    assert html_before.summary[0] == ["구분", "계", "완료", "추진 중", "검토 중", "미반영", "접수"]
    assert html_before.summary[1] == ["계", "2", "", "", "", "", "2"]
    assert html_after.summary[1] == ["계", "2", "", "1", "", "", "1"]

    csv_before = read_csv(csv_items.render(before).encode())
    csv_after = read_csv(csv_items.render(after).encode())
    assert csv_before[1][:10] == csv_after[1][:10]
    assert (csv_before[2][6], csv_after[2][6]) == ("접수", "추진중")
    assert [i for i, (a, b) in enumerate(zip(csv_before[2], csv_after[2], strict=True)) if a != b] == [6, 11]

    pdf_before, pdf_after = read_pdf(pdf.render(before)), read_pdf(pdf.render(after))
    assert norm("□ 추진상황 : 접수") in pdf_before.right
    assert pdf_before.right.count(norm("□ 추진상황 : 접수")) == 2
    assert pdf_after.right.count(norm("□ 추진상황 : 접수")) == 1
    assert pdf_after.right.count(norm("□ 추진상황 : 추진중")) == 1


def test_the_stylesheet_is_rendered_from_the_page_set_up(report):
    from auditflow.reports.page import PAGE

    text = html.render(report)
    assert PAGE.margins.css == "30mm 15mm 15mm 20mm"  # 공문서 작성 기준
    for rule in (f"size: {PAGE.paper};", f"margin: {PAGE.margins.css};",
                 f"html {{ font-size: {PAGE.sizes.body}pt; }}",
                 f"line-height: {PAGE.line_height};",
                 f".doc-head h1 {{ font-size: {PAGE.sizes.title}pt;",
                 f"h2 {{ font-size: {PAGE.sizes.heading}pt;",
                 f"padding: {PAGE.cell_padding_css};",
                 f"col.council-col {{ width: {PAGE.item_columns[0]}%; }}",
                 f'font-family: "{PAGE.font.family}", "{PAGE.font.fallback}"'):
        assert rule in text, rule
    assert "{{" not in text and "{#" not in text
