"""The HWPX report: valid by the library's own checks, and reading it back gives the report."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from hwpx import HwpxDocument, TextExtractor, validate_package
from lxml import etree

from auditflow.extensions import db
from auditflow.models import Audit
from auditflow.outline import to_plain
from auditflow.reports import hwpx as hwpx_writer
from auditflow.reports import typeset, writer
from auditflow.reports.content import build_report
from auditflow.reports.hwpx import to_bytes, write
from auditflow.reports.page import PAGE, hwpunit, pt_hwpunit
from auditflow.storage.sniff import sniff
from auditflow.vocabulary import Category, State
from tests.conftest import rendered

REFERENCE = date(2026, 1, 31)
_WS = re.compile(r"\s+")


def squash(text: str) -> str:
    return _WS.sub(" ", text).strip()


@pytest.fixture
def seed_report(seeded):
    audit = db.session.scalar(db.select(Audit).filter_by(year=2025))
    return build_report(audit, REFERENCE)


@pytest.fixture
def seed_hwpx(seed_report) -> bytes:
    return rendered("hwpx", seed_report)


def tables(data: bytes) -> list[list[list[str]]]:
    """Every table of the document, cell texts by row and column, as the library reads them."""
    with HwpxDocument.open(data) as doc:
        return [
            [[table.cell(r, c).text for c in range(table.column_count)]
             for r in range(table.row_count)]
            for table in doc.tables
        ]


def body_paragraphs(data: bytes) -> list[str]:
    with HwpxDocument.open(data) as doc:
        return [paragraph.text for paragraph in doc.paragraphs]


def test_library_validation_passes(seed_hwpx):
    package = validate_package(seed_hwpx)
    assert package.ok, package.errors
    with HwpxDocument.open(seed_hwpx) as doc:
        report = doc.validate()
    assert report.issues == (), report.issues
    assert "Contents/section0.xml" in report.validated_parts


def test_a_zip_with_the_hwpx_mimetype_first_that_our_sniffer_accepts(seed_hwpx, tmp_path):
    with zipfile.ZipFile(io.BytesIO(seed_hwpx)) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype"
        assert first.compress_type == zipfile.ZIP_STORED
        assert archive.read("mimetype") == b"application/hwp+zip"
        assert archive.testzip() is None
    path = tmp_path / "report.hwpx"
    path.write_bytes(seed_hwpx)
    kind = sniff(path)
    assert kind.key == "hwpx"


def test_text_read_back_equals_the_report(seed_report, seed_hwpx, tmp_path):
    path = tmp_path / "report.hwpx"
    path.write_bytes(seed_hwpx)
    extracted = squash(TextExtractor(path).extract_text())
    # Every text of the report, in the report's order.
    expected = [seed_report.title, seed_report.organisation, seed_report.reference_label,
                "□ 총 괄", seed_report.items_line, "ㅇ 조치내역",
                *(cell for row in seed_report.table() for cell in row if cell)]
    for section in seed_report.sections:
        expected += [section.heading, section.left_header, section.right_header]
        for item in section.items:
            expected += [item.council_line, *item.result_lines()]
    # In the report's order, and nothing else in between but the page number's dashes.
    rest, leftovers = extracted, []
    for text in expected:
        found = rest.find(squash(text))
        assert found >= 0, f"missing or out of order: {text!r}"
        leftovers.append(rest[:found])
        rest = rest[found + len(squash(text)):]
    assert set("".join(leftovers) + rest) <= {" ", "-"}


def test_heading_lines(seed_hwpx):
    paragraphs = [squash(text) for text in body_paragraphs(seed_hwpx) if text.strip()]
    assert paragraphs[:6] == [
        "2025 행정사무감사 처리결과",
        "서울AI재단",
        "'26.1.31. 기준",
        "□ 총 괄",
        "ㅇ 수감결과 처리요구사항 등 " + "·" * 20 + " 총 12건",
        "ㅇ 조치내역",
    ]
    assert paragraphs[6:] == ["시정·처리 요구사항", "건의 사항", "기타 사항"]


def test_summary_table_holds_the_summary_numbers(seed_report, seed_hwpx):
    summary_table = tables(seed_hwpx)[0]
    assert summary_table == seed_report.table()
    header, total, *rows = summary_table
    assert header == ["구분", "계", "완료", "추진 중", "검토 중", "미반영"]  # nothing received: no 접수
    assert total[:4] == ["계", "12", "11", "1"]
    summary = seed_report.summary
    for row, summary_row in zip([total, *rows], summary.rows, strict=True):
        assert row[0] == summary_row.label
        assert int(row[1]) == summary_row.total
        for state, cell in zip(summary.columns, row[2:], strict=True):
            assert int(cell or 0) == summary_row.counts[state]
    # The 총괄 counts equal the number of items listed below.
    assert int(total[1]) == len(seed_report.items) == 12


def test_one_table_per_category_with_its_items(seed_report, seed_hwpx):
    item_tables = tables(seed_hwpx)[1:]
    assert len(item_tables) == len(seed_report.sections) == 3
    for table, section in zip(item_tables, seed_report.sections, strict=True):
        assert table[0] == [section.left_header, section.right_header]
        assert len(table) - 1 == len(section.items)
        for row, item in zip(table[1:], section.items, strict=True):
            assert row[0] == item.council_line
            lines = row[1].split("\n")
            assert lines[0] == f"□ 추진상황 : {item.state.report_label}"
            assert lines[1] == "□ 추진내용"
            # One paragraph per outline line, indentation kept.
            assert lines[2:2 + len(to_plain(item.action_details))] == to_plain(item.action_details)
            if item.has_plan:
                assert "□ 향후계획" in lines
                assert lines[lines.index("□ 향후계획") + 1:] == to_plain(item.future_plan)
            else:
                assert "□ 향후계획" not in lines
    numbers = [row for table in item_tables for row in table[1:]]
    assert len(numbers) == 12
    states = [row[1].split("\n")[0] for row in numbers]
    assert states.count("□ 추진상황 : 추진완료") == 11
    assert states.count("□ 추진상황 : 추진중") == 1


def test_header_rows_repeat_on_each_page(seed_hwpx):
    with HwpxDocument.open(seed_hwpx) as doc:
        for table in doc.tables:
            assert table.element.get("repeatHeader") == "1"
            assert all(cell.element.get("header") == "1" for cell in table.rows[0].cells)


def test_received_column_only_when_some_item_is_received(make):
    audit = make.audit(2025)
    make.recommendation(audit=audit, state="received", category=Category.CORRECTIVE,
                        text="접수 상태 요구")
    make.recommendation(audit=audit, state="completed", category=Category.CORRECTIVE,
                        text="완료 요구")
    db.session.commit()
    report = build_report(audit)
    summary_table = tables(to_bytes(report))[0]
    assert summary_table[0][-1] == "접수"
    assert summary_table[1] == ["계", "2", "1", "", "", "", "1"]
    item_table = tables(to_bytes(report))[1]
    assert item_table[1][1].split("\n")[0] == f"□ 추진상황 : {State.RECEIVED.report_label}"


def test_registered_as_the_hwpx_writer(seed_report, tmp_path):
    path = tmp_path / "out.hwpx"
    writer("hwpx")(seed_report, path)
    assert tables(path.read_bytes()) == tables(to_bytes(seed_report))
    write(seed_report, tmp_path / "again.hwpx")
    assert (tmp_path / "again.hwpx").stat().st_size > 0


def test_the_writer_refuses_a_document_the_library_rejects(seed_hwpx):
    """check() is the gate every written file passes: a broken section must not get through."""
    from auditflow.reports.hwpx import HwpxInvalid, check

    source = zipfile.ZipFile(io.BytesIO(seed_hwpx))
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "Contents/section0.xml":
                data = data.replace(b"<hp:tbl ", b"<hp:notATable ", 1)
            target.writestr(info, data)
    with pytest.raises(HwpxInvalid):
        check(broken.getvalue())
    check(seed_hwpx)  # the real one passes


# --- the page set-up, the stored layout, the footer, the properties ----------------------------

_HP = "{http://www.hancom.co.kr/hwpml/2011/paragraph}"
_HH = "{http://www.hancom.co.kr/hwpml/2011/head}"
_HC = "{http://www.hancom.co.kr/hwpml/2011/core}"


def parts(data: bytes) -> tuple[Any, Any]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return (etree.fromstring(archive.read("Contents/header.xml")),
                etree.fromstring(archive.read("Contents/section0.xml")))


def para_margins(header: Any) -> dict[str, dict[str, int]]:
    shapes = {}
    for para_pr in header.iter(f"{_HH}paraPr"):
        margin = next(para_pr.iter(f"{_HH}margin"))
        shapes[para_pr.get("id")] = {child.tag.removeprefix(_HC): int(child.get("value"))
                                     for child in margin}
    return shapes


def test_the_page_is_the_pdfs(seed_hwpx):
    header, section = parts(seed_hwpx)
    page = section.find(f".//{_HP}pagePr")
    assert (int(page.get("width")), int(page.get("height"))) == (hwpunit(PAGE.width_mm),
                                                                 hwpunit(PAGE.height_mm))
    margin = {name: int(value) for name, value in page.find(f"{_HP}margin").attrib.items()}
    assert margin["top"] + margin["header"] == hwpunit(PAGE.margins.top)
    assert margin["bottom"] + margin["footer"] == hwpunit(PAGE.margins.bottom)
    assert margin["left"] == hwpunit(PAGE.margins.left)
    assert margin["right"] == hwpunit(PAGE.margins.right)
    faces = {font.get("face"): font for font in header.iter(f"{_HH}font")}
    assert faces[PAGE.font.family].find(f"{_HH}substFont").get("face") == PAGE.font.substitute
    family_id = {font.get("id") for font in header.iter(f"{_HH}font")
                 if font.get("face") == PAGE.font.family}
    used = {run.get("charPrIDRef") for run in section.iter(f"{_HP}run")}
    shapes = {shape.get("id"): shape for shape in header.iter(f"{_HH}charPr")}
    for ref in used - {None}:
        assert shapes[ref].find(f"{_HH}fontRef").get("hangul") in family_id
    sizes = {int(shapes[ref].get("height")) for ref in used - {None}}
    expected = PAGE.sizes
    assert sizes == {pt_hwpunit(size) for size in (expected.title, expected.organisation,
                                                    expected.reference, expected.heading,
                                                    expected.body, expected.page_number)}
    spacing = {int(line.get("value")) for line in header.iter(f"{_HH}lineSpacing")
               if any(para.get("paraPrIDRef") for para in section.iter(f"{_HP}p"))}
    assert PAGE.line_spacing_percent in spacing


def test_item_columns_and_cell_padding_are_the_pdfs(seed_hwpx):
    _header, section = parts(seed_hwpx)
    tables = list(section.iter(f"{_HP}tbl"))
    vertical, horizontal = (hwpunit(mm) for mm in PAGE.cell_padding_mm)
    for table in tables:
        margin = table.find(f"{_HP}inMargin")
        assert [int(margin.get(side)) for side in ("left", "right", "top", "bottom")] == [
            horizontal, horizontal, vertical, vertical]
        assert all(cell.get("hasMargin") == "0" for cell in table.iter(f"{_HP}tc"))
    for table in tables[1:]:
        first_row = table.find(f"{_HP}tr")
        widths = [int(cell.find(f"{_HP}cellSz").get("width")) for cell in first_row]
        assert [round(100 * width / sum(widths)) for width in widths] == list(PAGE.item_columns)


def test_every_cell_is_as_tall_as_its_lines(seed_hwpx):
    """Each row as tall as its tallest cell's lines and padding; each cell's lines one under
    the other from its top; the table as tall as its rows. Nothing is a placeholder."""
    _header, section = parts(seed_hwpx)
    vertical = hwpunit(PAGE.cell_padding_mm[0])
    heights = []
    for table in section.iter(f"{_HP}tbl"):
        total = 0
        for row in table.findall(f"{_HP}tr"):
            needed = []
            for cell in row.findall(f"{_HP}tc"):
                lines = [line for paragraph in cell.iter(f"{_HP}p")
                         for line in paragraph.iter(f"{_HP}lineseg")]
                assert len(lines) >= len(list(cell.iter(f"{_HP}p"))), "a paragraph without a cache"
                tops = [int(line.get("vertpos")) for line in lines]
                assert tops == sorted(tops) and len(set(tops)) == len(tops), "lines over one another"
                for upper, lower in zip(lines, lines[1:], strict=False):
                    assert int(lower.get("vertpos")) >= int(upper.get("vertpos")) + int(
                        upper.get("vertsize")) + int(upper.get("spacing"))
                last = lines[-1]
                needed.append(int(last.get("vertpos")) + int(last.get("vertsize")) + 2 * vertical)
            stored = {int(cell.find(f"{_HP}cellSz").get("height")) for cell in row}
            assert stored == {max(needed)}
            heights.append(max(needed))
            total += max(needed)
        assert int(table.find(f"{_HP}sz").get("height")) == total
    assert min(heights) >= pt_hwpunit(PAGE.sizes.body) + 2 * vertical
    assert len(set(heights)) > 5  # computed per row, not one height for all


def test_outline_lines_hang_once(seed_report, seed_hwpx):
    """A wrapped outline line starts under its text: no left margin, a hanging indent
    (intent < 0) as wide as the line's spaces, marker and one space."""
    header, section = parts(seed_hwpx)
    shapes = para_margins(header)
    item_tables = list(section.iter(f"{_HP}tbl"))[1:]
    hanging = 0
    for table in item_tables:
        for row in table.findall(f"{_HP}tr")[1:]:
            for cell in row.findall(f"{_HP}tc"):
                for paragraph in cell.iter(f"{_HP}p"):
                    text = "".join(t.text or "" for t in paragraph.iter(f"{_HP}t"))
                    margins = shapes[paragraph.get("paraPrIDRef")]
                    assert margins["left"] == 0, text
                    lead = hwpx_writer._lead(text)
                    if lead.strip():
                        assert margins["intent"] == -hwpunit(
                            round(typeset.drawn_width(lead, pt_hwpunit(PAGE.sizes.body))
                                  * 25.4 / 7200, 2)), text
                        assert margins["intent"] < 0
                        hanging += 1
                    lines = list(paragraph.iter(f"{_HP}lineseg"))
                    assert [int(line.get("flags")) & typeset.INDENTED for line in lines] == [
                        0, *([typeset.INDENTED if margins["intent"] < 0 else 0] * (len(lines) - 1))]
    assert hanging >= len(seed_report.items)


def test_the_page_number_is_written_once_in_the_footer(seed_hwpx):
    _header, section = parts(seed_hwpx)
    footers = list(section.iter(f"{_HP}footer"))
    assert len(footers) == 1
    assert footers[0].getparent().tag == f"{_HP}ctrl"  # a control in the text, not in secPr
    assert not list(section.find(f".//{_HP}secPr").iter(f"{_HP}footer", f"{_HP}footerApply"))
    assert not list(section.iter(f"{_HP}pageNum"))  # no 쪽 번호 control drawing a second one
    numbers = [auto for auto in section.iter(f"{_HP}autoNum") if auto.get("numType") == "PAGE"]
    assert len(numbers) == 1 and footers[0] in numbers[0].iterancestors()
    texts = [t.text for t in footers[0].iter(f"{_HP}t")]
    assert texts == [PAGE.page_number_prefix, PAGE.page_number_suffix]


def test_properties_name_the_report_not_the_moment(seed_report, make):
    with HwpxDocument.open(to_bytes(seed_report)) as doc:
        metadata = doc.parts.metadata
    assert metadata.title == f"{seed_report.title}({seed_report.reference_label})"
    assert metadata.creator == metadata.lastsaveby == seed_report.organisation
    assert metadata.created_date == metadata.modified_date == "2026-01-31T00:00:00Z"
    issued = replace(seed_report, issued_on=date(2026, 2, 3))
    with HwpxDocument.open(to_bytes(issued)) as doc:
        assert doc.parts.metadata.created_date == "2026-02-03T00:00:00Z"


def test_the_preview_text_is_the_reports(seed_report, seed_hwpx):
    with zipfile.ZipFile(io.BytesIO(seed_hwpx)) as archive:
        preview = archive.read("Preview/PrvText.txt").decode("utf-8")
    lines = preview.split("\r\n")
    assert lines[:6] == [seed_report.title, seed_report.organisation, seed_report.reference_label,
                         "□ 총  괄", seed_report.items_line, "ㅇ 조치내역"]
    assert lines[6] == "".join(f"<{cell}>" for cell in seed_report.table()[0])
    assert seed_report.sections[0].heading in lines
    assert 0 < len(preview) <= 1024


def test_the_same_report_gives_the_same_bytes(seed_report):
    assert to_bytes(seed_report) == to_bytes(seed_report)


def test_missing_fonts_are_refused_in_korean(seed_report, monkeypatch, tmp_path):
    from auditflow.reports import page

    monkeypatch.setattr(page, "KRDS_FONTS", tmp_path)
    typeset.face.cache_clear()
    try:
        with pytest.raises(typeset.FontsMissing) as refused:
            to_bytes(seed_report)
    finally:
        monkeypatch.undo()
        typeset.face.cache_clear()
    assert "Pretendard GOV 글꼴이 없습니다" in refused.value.message
    assert "make install" in refused.value.message
