"""The HWPX report as independent readers see it (tests/hwpx_readers.py says how each runs).

Each check is also run on a copy of the report laid out as the writer used to lay it out
(every cell 1 mm high, no line cache, the footer inside ``hp:secPr``), to show that the
check can fail.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from datetime import date

import pytest

from auditflow.extensions import db
from auditflow.models import Audit
from auditflow.reports.content import build_report
from tests.conftest import rendered
from tests.hwpx_readers import (
    kit_inspect,
    layout_faults,
    owpml_violations,
    read_svg_page,
    rhwp_svg_pages,
)

pytestmark = pytest.mark.file_format

REFERENCE = date(2026, 1, 31)
HANCOM_SAVED = ("seoul_sihaengmun.hwpx", "mfds_admin_notice.hwpx", "reader_writer__SimpleCompose.hwpx")


@pytest.fixture
def seed_report(seeded):
    audit = db.session.scalar(db.select(Audit).filter_by(year=2025))
    return build_report(audit, REFERENCE)


@pytest.fixture
def seed_hwpx(seed_report) -> bytes:
    return rendered("hwpx", seed_report)


def _rewrite_section(data: bytes, change) -> bytes:  # type: ignore[no-untyped-def]
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            payload = source.read(info)
            if info.filename == "Contents/section0.xml":
                payload = change(payload.decode()).encode()
            target.writestr(info, payload)
    return out.getvalue()


def collapsed(data: bytes) -> bytes:
    """The report laid out as before: every cell 1 mm high, no line cache, each table set as
    one character."""
    def change(xml: str) -> str:
        xml = re.sub(r"<hp:linesegarray>.*?</hp:linesegarray>", "", xml)
        xml = xml.replace('<hp:pos treatAsChar="0"', '<hp:pos treatAsChar="1"')
        xml = re.sub(r'(<hp:cellSz width="\d+" height=")\d+', r"\g<1>282", xml)
        return re.sub(r'(rowCnt="(\d+)".*?<hp:sz width="\d+" widthRelTo="ABSOLUTE" height=")\d+',
                      lambda m: f"{m.group(1)}{282 * int(m.group(2))}", xml)
    return _rewrite_section(data, change)


def footer_in_section_settings(data: bytes) -> bytes:
    """The report with a copy of its footer inside ``hp:secPr``, as the writer used to put it."""
    def change(xml: str) -> str:
        footer = re.search(r"<hp:footer .*?</hp:footer>", xml, re.S)
        assert footer is not None
        return xml.replace("</hp:secPr>", footer.group(0) + "</hp:secPr>", 1)
    return _rewrite_section(data, change)


# --- rhwp ----------------------------------------------------------------------------------------


def test_rhwp_draws_no_line_over_another_and_every_cell_text_inside_its_cell(seed_report,
                                                                              seed_hwpx):
    pages = [read_svg_page(svg) for svg in rhwp_svg_pages(seed_hwpx)]
    assert layout_faults(pages) == []
    # It drew the report: tables on more than one page, every character of every item.
    assert sum(1 for page in pages if page.rules) >= 2
    assert sum(len(page.lines) for page in pages) > 10 * len(seed_report.items)
    drawn = Counter(char for page in pages for glyph in page.glyphs for char in glyph.char)
    # rhwp draws the middle dot (·) as a circle, not as text.
    needed = Counter(char for item in seed_report.items for char in item.text()
                     if not char.isspace() and char != "·")
    assert not needed - drawn, needed - drawn


def test_rhwp_check_finds_the_collapsed_cells_of_before(seed_hwpx):
    pages = [read_svg_page(svg) for svg in rhwp_svg_pages(collapsed(seed_hwpx))]
    faults = layout_faults(pages)
    assert any("across a cell border" in fault for fault in faults)
    assert any(" over " in fault for fault in faults)


def test_rhwp_draws_the_footer_once_a_page(seed_hwpx):
    pages = [read_svg_page(svg) for svg in rhwp_svg_pages(seed_hwpx)]
    for page in pages:
        # rhwp leaves the page-number field itself blank (edwardkim/rhwp#6986); the dashes
        # around it are the footer's, drawn once, below the body.
        footers = [line for line in page.lines if set(line.text) == {"-"}]
        assert len(footers) == 1
        assert footers[0].box.top > max(rule.bottom for rule in page.rules)


# --- hwpx-kit-cli --------------------------------------------------------------------------------


def test_hwpx_kit_inspect_finds_nothing(seed_hwpx, tmp_path):
    path = tmp_path / "report.hwpx"
    path.write_bytes(seed_hwpx)
    report = kit_inspect(path)
    assert "layout" in report["checks"] and "structure" in report["checks"]
    assert report["issues"] == []


def test_hwpx_kit_flags_the_collapsed_cells_of_before(seed_hwpx, tmp_path):
    path = tmp_path / "before.hwpx"
    path.write_bytes(collapsed(seed_hwpx))
    codes = {issue["code"] for issue in kit_inspect(path, "layout")["issues"]}
    assert "row_height_too_small" in codes


# --- the OWPML schema python-hwpx ships -------------------------------------------------------


@pytest.fixture(scope="module")
def hancom_deviations(shared) -> set[str]:
    """What the bundled schema finds in documents Hancom saved (its 2011 practice)."""
    found: set[str] = set()
    for name in HANCOM_SAVED:
        found |= set(owpml_violations(shared.evidence(name).read_bytes()))
    return found


def test_owpml_schema_finds_nothing_that_hancom_documents_lack(seed_hwpx, hancom_deviations):
    ours = owpml_violations(seed_hwpx)
    assert set(ours) <= hancom_deviations, set(ours) - hancom_deviations


def test_owpml_schema_refuses_a_footer_inside_the_section_settings(seed_hwpx, hancom_deviations):
    ours = owpml_violations(footer_in_section_settings(seed_hwpx))
    assert "section | paragraph:footer: element not expected" in set(ours) - hancom_deviations


# --- hwpforge ------------------------------------------------------------------------------------


def test_hwpforge_reads_the_properties_and_one_footer(seed_report, seed_hwpx):
    hwpforge = pytest.importorskip("hwpforge", reason="hwpforge is not installed: run `make install`")
    document = hwpforge.Document.from_bytes(seed_hwpx)
    assert document.validate()["ok"]
    report = document.inspect()
    metadata = report["metadata"]
    assert metadata["title"] == f"{seed_report.title}({seed_report.reference_label})"
    assert metadata["author"] == metadata["last_saved_by"] == seed_report.organisation
    assert metadata["created"] == metadata["modified"] == f"{REFERENCE.isoformat()}T00:00:00Z"
    (section,) = report["section_details"]
    assert section["has_footer"] and not section["has_header"]
    assert not section["has_page_number"]  # no 쪽 번호 control: the footer's field is the number
    assert report["tables"] == 1 + len(seed_report.sections)
