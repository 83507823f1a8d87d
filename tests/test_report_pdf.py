"""The PDF: rendered in parts, it has the pages of one rendering; it is PDF/A-3b in Korean,
an issued edition's tagged and identified as PDF/UA-1, dated by the edition; Korean words
are not broken."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date

import pdfplumber
import pypdfium2
import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader
from pypdf.generic import IndirectObject

from auditflow.extensions import db
from auditflow.models import Audit
from auditflow.reports import html, pdf, pdf_parts
from auditflow.reports.content import build_report
from auditflow.reports.pdf_parts import PageStart, Part, Take, Unmet
from auditflow.services import recommendations as ops
from auditflow.vocabulary import Category
from tests.conftest import rendered
from tests.report_files import grown

pytestmark = pytest.mark.file_format

REFERENCE = date(2026, 1, 31)
ISSUED_ON = date(2026, 2, 3)


@pytest.fixture
def report(seeded):
    audit = db.session.scalar(db.select(Audit).filter_by(year=2025))
    return build_report(audit, REFERENCE)


@pytest.fixture
def issued(seeded):
    audit = db.session.scalar(db.select(Audit).filter_by(year=2025))
    return build_report(audit, REFERENCE, issued_on=ISSUED_ON)


# --- the parts and where they meet (no rendering) -------------------------------------------------


def test_the_plan_cuts_the_items_into_parts_that_overlap():
    assert pdf_parts.plan(12, due_changes=True) == [Part(True, (0, 12), True)]
    parts = pdf_parts.plan(100, due_changes=True, chunk_rows=30, overlap_rows=5, single_rows=30)
    # four parts of 29 items each, the 5 of the overlap included
    assert parts == [Part(True, (0, 29), False), Part(False, (24, 53), False),
                     Part(False, (48, 76), False), Part(False, (71, 100), True)]
    # an even number of parts, as equal as can be: 70 items in parts of 30 at most
    assert [part.rows for part in pdf_parts.plan(70, due_changes=False, chunk_rows=30,
                                                 overlap_rows=5, single_rows=30)] == [
        (0, 21), (16, 37), (32, 54), (49, 70)]
    # 1,000 items: two parts, one for each of two processes
    assert [part.rows for part in pdf_parts.plan(1000, due_changes=False)] == [(0, 520), (480, 1000)]
    # The plan depends on the report alone (never on the machine): the same every time.
    assert parts == pdf_parts.plan(100, due_changes=True, chunk_rows=30, overlap_rows=5,
                                   single_rows=30)


def _starts(*rows: int | None) -> tuple[PageStart | None, ...]:
    return tuple(None if row is None else PageStart(row, False) for row in rows)


def test_parts_are_taken_to_the_first_page_both_start_alike():
    first = _starts(0, 3, 7, 10, 14)  # a part rendered to row 16: its last page is cut short
    second = _starts(9, 12, 14, 18, 21)  # from row 9 on a fresh page: meets at row 14
    third = _starts(17, 19, 21, 25)  # meets the second at row 21, not at its fresh start
    assert pdf_parts.stitch([first, second, third]) == [Take(0, 0, 4), Take(1, 2, 4), Take(2, 2, 4)]


def test_a_fresh_first_page_is_never_taken_as_a_meeting():
    # The second part's first page starts at a row the first part starts a page with, but
    # on a fresh page rather than a continued table: the next start must agree too.
    first = _starts(0, 4, 8, 12)
    assert pdf_parts.stitch([first, _starts(8, 11, 15)]) == Unmet(1, 0)
    assert pdf_parts.stitch([first, _starts(8, 12, 15)]) == [Take(0, 0, 3), Take(1, 1, 3)]


def test_a_heading_on_the_page_is_part_of_where_it_starts():
    first = (PageStart(0, True), PageStart(3, True), PageStart(6, False))
    second = (PageStart(2, False), PageStart(3, False), PageStart(6, False))
    assert pdf_parts.stitch([first, second]) == [Take(0, 0, 2), Take(1, 2, 3)]


def test_a_bridge_starts_where_the_part_before_starts_two_pages_running():
    first = _starts(0, 3, None, 7, 10)
    assert pdf_parts.stitch([first, _starts(8, 11, 15)]) == Unmet(1, 0)
    assert pdf_parts.unmet([first, _starts(8, 11, 15), _starts(14, 15)]) == [1]
    following = Part(False, (8, 30), True)
    # from row 7, which starts a page followed by another page start (row 10)
    assert pdf_parts.bridge(first, following, 10) == Part(False, (7, 17), False)
    # a bridge long enough to reach the end of the next part takes its 기한 변경 내역 too
    assert pdf_parts.bridge(first, following, 40) == Part(False, (7, 30), True)
    assert pdf_parts.bridge(_starts(0, None), following, 10) is None


# --- the parts' pages are the pages of one rendering ---------------------------------------------


Glyph = tuple[str, float, float, float]


@dataclass(frozen=True)
class Pages:
    """What the comparison reads of a PDF: each page's glyphs (text, x, top, size) and the
    page drawn at 36 dpi in grey."""

    glyphs: list[list[Glyph]]
    images: list[Image.Image]


def _pages(data: bytes) -> Pages:
    with pdfplumber.open(io.BytesIO(data)) as document:
        glyphs = [[(char["text"], char["x0"], char["top"], char["size"]) for char in page.chars]
                  for page in document.pages]
    drawn = pypdfium2.PdfDocument(data)
    images = [drawn[index].render(scale=0.5).to_pil().convert("L") for index in range(len(drawn))]
    return Pages(glyphs, images)


_ONE_RENDERING: dict[str, Pages] = {}


def _one_rendering(report) -> Pages:
    """The whole document laid out by WeasyPrint at once, page numbers and all, read for
    the comparison: once per worker for the same report, as ``rendered`` does (a rendering
    is a pure function of the report), for the tests that compare parts with it."""
    from weasyprint import HTML

    key = repr(report)
    if key not in _ONE_RENDERING:
        document = html.render(report, extra_css=pdf.font_css(), for_pdf=True)
        data: bytes = HTML(string=document, base_url=str(pdf.REPO)).write_pdf()
        _ONE_RENDERING[key] = _pages(data)
    return _ONE_RENDERING[key]


def _assert_same_pages(data: bytes, expected: Pages) -> None:
    ours = _pages(data)
    glyphs, wanted = ours.glyphs, expected.glyphs
    assert len(glyphs) == len(wanted)
    for number, (page, other) in enumerate(zip(glyphs, wanted, strict=True), start=1):
        assert "".join(g[0] for g in page) == "".join(g[0] for g in other), number
        # Every glyph where it is in one rendering, to a twentieth of a point (0.018 mm).
        # WeasyPrint writes each glyph's width as it first met it in the document (a glyph
        # that first came kerned gets 645/1000 em in one part, 646 in another) and places
        # the glyphs with offsets in thousandths of an em against that width: the same
        # layout, written with its rounding a few hundredths of a point apart.
        for glyph, want in zip(page, other, strict=True):
            assert abs(glyph[1] - want[1]) < 0.05 and abs(glyph[2] - want[2]) < 0.05, (number, glyph)
            assert glyph[3] == want[3]
    # And the pages look the same at low resolution (36 dpi): no pixel differs by more
    # than the antialiasing of a glyph moved by those hundredths of a point.
    assert len(ours.images) == len(expected.images)
    for index, (image, reference) in enumerate(zip(ours.images, expected.images, strict=True)):
        darkest = ImageChops.difference(image, reference).getextrema()[1]
        assert darkest <= 64, (index + 1, darkest)


@pytest.fixture
def long_report(report):
    return grown(report, 120)


_IN_PARTS: dict[tuple[str, bool], tuple[bytes, list[pdf_parts.Rendered]]] = {}


def _in_parts(report, tagged: bool) -> tuple[bytes, list[pdf_parts.Rendered]]:
    """``report`` written in parts of 40 items (and what each part's rendering told), once
    per worker for the same report and ``tagged``, as ``rendered`` does: the parts test and
    the subset names test read the same file."""
    key = (repr(report), tagged)
    if key not in _IN_PARTS:
        stats: list[pdf_parts.Rendered] = []
        output = io.BytesIO()
        pdf.write_to(report, output, chunk_rows=40, single_rows=40, tagged=tagged, stats=stats)
        _IN_PARTS[key] = (output.getvalue(), stats)
    return _IN_PARTS[key]


@pytest.mark.parametrize("tagged", [False, True])
def test_a_report_rendered_in_parts_has_the_pages_of_one_rendering(long_report, tagged):
    data, stats = _in_parts(long_report, tagged)
    assert len(stats) >= 3  # three parts, rendered on the pool
    _assert_same_pages(data, _one_rendering(long_report))


def test_each_font_program_has_a_subset_name_of_its_own(long_report):
    reader = PdfReader(io.BytesIO(_in_parts(long_report, tagged=True)[0]))
    programs: dict[str, int] = {}
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object()["/FontDescriptor"]
                program = next(descriptor.raw_get(key) for key in ("/FontFile2", "/FontFile3",
                                                                   "/FontFile") if key in descriptor)
                name = str(descriptor["/FontName"])
                assert re.fullmatch(r"/[A-Z]{6}\+.+", name), name  # embedded, as a subset
                assert programs.setdefault(name, program.idnum) == program.idnum, name
    assert len(programs) >= 4  # the parts' subsets of the same faces, each named apart


def test_parts_that_do_not_meet_are_bridged_and_the_pages_are_the_same(long_report):
    # No overlap: a part ends where the next begins, so they cannot meet on a page they
    # both render; a bridge from a page start of the one before joins them.
    stats: list[pdf_parts.Rendered] = []
    output = io.BytesIO()
    pdf.write_to(long_report, output, chunk_rows=60, overlap_rows=0, single_rows=60,
                 stats=stats)
    assert len(stats) >= 3  # the two parts, and at least one bridge
    assert max(len(part.starts) for part in stats[2:]) < 15  # a bridge, not the part again
    _assert_same_pages(output.getvalue(), _one_rendering(long_report))


def test_page_numbers_run_on_across_the_parts_and_sheets(long_report, monkeypatch):
    monkeypatch.setattr(pdf, "SHEET_PAGES", 10)  # the numbers in two sheets, 1-15 and 16-
    data = pdf.render(long_report, chunk_rows=40, single_rows=40)
    with pdfplumber.open(io.BytesIO(data)) as document:
        footers = [(page.crop((0, page.height - 15 * 72 / 25.4, page.width, page.height))
                    .extract_text() or "").strip() for page in document.pages]
    assert footers == [f"- {number} -" for number in range(1, len(footers) + 1)]


# --- PDF/A-3b, PDF/UA-1 ---------------------------------------------------------------------------


def test_an_issued_pdf_is_archival_tagged_and_korean(issued):
    data = rendered("pdf", issued)
    reader = PdfReader(io.BytesIO(data))
    catalog = reader.trailer["/Root"]
    assert data.startswith(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")  # a binary file, as PDF/A wants
    assert catalog["/Lang"] == "ko"
    assert catalog["/MarkInfo"]["/Marked"] is True or catalog["/MarkInfo"]["/Marked"] == True  # noqa: E712
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712
    [intent] = catalog["/OutputIntents"]
    assert intent["/S"] == "/GTS_PDFA1" and b"sRGB" in intent["/Info"].encode("latin-1") \
        or "sRGB" in str(intent["/Info"])
    assert intent["/DestOutputProfile"].get_object().get_data()[36:40] == b"acsp"  # an ICC profile
    xmp = catalog["/Metadata"].get_object().get_data().decode("utf-8")
    for claim in ('pdfaid:part="3"', 'pdfaid:conformance="B"', 'pdfuaid:part="1"',
                  "<rdf:li>ko</rdf:li>", "xmp:CreateDate=\"2026-02-03T00:00:00+09:00\""):
        assert claim in xmp, claim
    info = reader.metadata
    assert info["/Title"] == "2025 행정사무감사 처리결과('26.1.31. 기준)"
    assert f">{info['/Title']}</rdf:li>" in xmp and f"<rdf:li>{info['/Author']}</rdf:li>" in xmp
    assert f'pdf:Producer="{info["/Producer"]}"' in xmp
    assert info["/CreationDate"] == "D:20260203000000+09'00'"
    assert len(reader.trailer["/ID"]) == 2 and reader.trailer["/ID"][0] == reader.trailer["/ID"][1]


def test_a_download_is_archival_and_korean_without_the_structure(report):
    reader = PdfReader(io.BytesIO(rendered("pdf", report)))
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == "ko" and "/OutputIntents" in catalog
    assert "/StructTreeRoot" not in catalog and "/MarkInfo" not in catalog
    xmp = catalog["/Metadata"].get_object().get_data().decode("utf-8")
    assert 'pdfaid:part="3"' in xmp and "pdfuaid" not in xmp
    assert reader.metadata["/CreationDate"] == "D:20260131000000+09'00'"  # the reference date


def test_every_page_is_in_the_structure_tree(issued):
    reader = PdfReader(io.BytesIO(rendered("pdf", issued)))
    tree = reader.trailer["/Root"]["/StructTreeRoot"]
    [document] = tree["/K"]
    document = document.get_object()
    assert document["/S"] == "/Document"
    nums = tree["/ParentTree"]["/Nums"]
    keys = [int(key) for key in nums[::2]]
    assert keys == list(range(len(reader.pages))) == [int(page["/StructParents"]) for page in reader.pages]
    assert int(tree["/ParentTreeNextKey"]) == len(reader.pages)
    page_ids = {page.indirect_reference.idnum: index for index, page in enumerate(reader.pages)}
    kinds: set[str] = set()
    tagged_pages: set[int] = set()

    def visit(ref, parent_id):  # type: ignore[no-untyped-def]
        element = ref.get_object()
        kinds.add(element["/S"])
        assert element.raw_get("/P").idnum == parent_id
        tagged_pages.add(page_ids[element.raw_get("/Pg").idnum])
        kids = element.raw_get("/K")
        for kid in kids if isinstance(kids, list) else [kids]:
            if isinstance(kid, IndirectObject) and "/S" in kid.get_object():
                visit(kid, ref.idnum)

    for kid in document.raw_get("/K"):
        visit(kid, document.indirect_reference.idnum)
    assert tagged_pages == set(range(len(reader.pages)))
    assert {"/H1", "/H2", "/Table", "/TH", "/TD", "/P"} <= kinds
    # Every marked content of a page maps to an element of that page.
    for key, marks in zip(nums[::2], nums[1::2], strict=True):
        for mark in marks.get_object():
            element = mark.get_object()
            assert page_ids[element.raw_get("/Pg").idnum] == int(key)
    # The page number is drawn as a pagination artifact, outside the structure.
    contents = reader.pages[0].get_contents().get_data()
    assert b"/Artifact <</Type /Pagination /Subtype /Footer>> BDC /AFPage1 Do EMC" in contents


# --- dates, bytes --------------------------------------------------------------------------------


def test_an_issued_edition_is_dated_the_day_it_is_issued(report):
    import dataclasses

    edition = dataclasses.replace(report, issued_on=date(2026, 2, 4))
    info = PdfReader(io.BytesIO(pdf.render(edition))).metadata
    assert info["/CreationDate"] == info["/ModDate"] == "D:20260204000000+09'00'"


def test_the_same_report_gives_the_same_bytes(report, tmp_path):
    first = rendered("pdf", report)
    path = tmp_path / "again.pdf"
    pdf.write(report, path)
    assert path.read_bytes() == first == pdf.render(report)


# --- Korean words --------------------------------------------------------------------------------

LONG = ("서울AI재단은 시민의 디지털 역량 강화를 위하여 인공지능 교육 프로그램을 확대 운영하고 "
        "취약계층 맞춤형 지원 방안을 마련하기 바람. 또한 자치구별 교육장 접근성을 개선하고 "
        "어르신 디지털배움터 강사 역량강화 집체교육을 정례화하기 바람.")


def test_korean_words_are_not_broken_at_line_ends(make):
    audit = make.audit()
    auditor = make.user("audit")
    ops.register(audit, number=1, category=Category.CORRECTIVE, actor=auditor, council_text=LONG)
    report = build_report(audit)
    words = set(f"ㅇ {LONG}".split())
    with pdfplumber.open(io.BytesIO(pdf.render(report))) as document:
        page = document.pages[0]
        divider = (20 + 0.34 * 175) * 72 / 25.4
        column = page.crop((0, 30 * 72 / 25.4, divider, page.height - 15 * 72 / 25.4))
        lines = [line for line in (column.extract_text() or "").split("\n") if line.strip()]
    flat = "".join(f"ㅇ {LONG}".split())
    council = [line for line in lines if "".join(line.split()) in flat]
    assert len(council) >= 5  # the text takes several lines of the narrow column
    assert "".join("".join(council).split()) == flat  # all of it, in order
    assert all(line.split()[0] in words and line.split()[-1] in words for line in council), council
    # The download for browsers stays as typed: they keep the words themselves (keep-all).
    assert html.WORD_JOINER not in html.render(report)
    assert "word-break: keep-all" in html.render(report)


def test_keep_words_joins_the_letters_of_words_with_hangul_only():
    assert html.keep_words("AI재단 (2026.1.)부터 ok") == (
        "AI\u2060재\u2060단 (2026.1.)\u2060부\u2060터 ok")


def test_an_audit_without_items_prints_its_head_on_one_numbered_page(make):
    report = build_report(make.audit())
    with pdfplumber.open(io.BytesIO(pdf.render(report))) as document:
        assert len(document.pages) == 1
        text = document.pages[0].extract_text() or ""
    assert report.title in text and "총 0건" in text and text.rstrip().endswith("- 1 -")
