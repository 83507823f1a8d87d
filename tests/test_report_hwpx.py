"""The HWPX report: valid by the library's own checks, and reading it back gives the report."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

import pytest
from hwpx import HwpxDocument, TextExtractor, validate_package

from auditflow.extensions import db
from auditflow.models import Audit
from auditflow.outline import to_plain
from auditflow.reports import writer
from auditflow.reports.content import build_report
from auditflow.reports.hwpx import to_bytes, write
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
