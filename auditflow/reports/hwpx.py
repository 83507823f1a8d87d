"""The council report as an HWPX document (한글), written with the python-hwpx library.

The layout follows section 5 of the work report: the title, the body's name and
the reference date; "□ 총  괄" with the item count and the 조치내역 table; then
one two-column table per category (the council's text | the action result),
whose header row repeats on every page. Text is set in 휴먼명조 (with
함초롬바탕, which every Hancom installation has, as its substitute), headings
bold, tables ruled with thin black lines and a grey header row, A4 with the
margins and the "- n -" page number of public documents.

Outline lines keep the indentation ``outline.to_plain`` gives them, and each
gets a hanging indent so that a wrapped line starts under the text, not under
the marker, as the document types them.

Before the bytes leave this module the library's own checks run: the package
structure (``validate_package``), the XML against the OWPML schemas
(``HwpxDocument.validate``) and the editor-open safety check. A document that
fails them is a bug here, so it raises instead of being handed to the liaison.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from hwpx import HwpxDocument, validate_editor_open_safety

from auditflow.reports.content import (
    OVERVIEW_HEADING,
    TABLE_LINE_LABEL,
    Report,
    ReportItem,
    ReportSection,
)

FONT = "휴먼명조"
FALLBACK_FONT = "함초롬바탕"
BLACK = "#000000"
HEADER_FILL = "#E5E5E5"

TITLE_PT = 18
HEADING_PT = 15
BODY_PT = 13
TABLE_PT = 12
SUMMARY_COLUMN_WEIGHTS = (3,)  # 구분 column; the count columns share the rest equally
ITEM_COLUMN_WEIGHTS = (32, 68)  # council text | action result
_PT_TO_MM = 25.4 / 72


class HwpxInvalid(RuntimeError):
    """The library's validation refused the document we generated."""


class _Styles:
    """The few character and paragraph shapes the report uses, minted once per document."""

    def __init__(self, doc: HwpxDocument) -> None:
        self.doc = doc
        styles = doc.styles
        styles.ensure_font(FONT, subst_face=FALLBACK_FONT, subst_type="TTF")
        self.title = styles.ensure_run(font=FONT, size=TITLE_PT, bold=True)
        self.heading = styles.ensure_run(font=FONT, size=HEADING_PT, bold=True)
        self.body = styles.ensure_run(font=FONT, size=BODY_PT)
        self.cell = styles.ensure_run(font=FONT, size=TABLE_PT)
        self.cell_bold = styles.ensure_run(font=FONT, size=TABLE_PT, bold=True)
        self.border = styles.ensure_border_fill(border_color=BLACK, border_width="0.12 mm")
        self.header_border = styles.ensure_border_fill(
            border_color=BLACK, border_width="0.12 mm", fill_color=HEADER_FILL
        )
        # Paragraph formats are applied at the end, one call per group of paragraphs.
        self.centered: list[Any] = []
        self.right: list[Any] = []
        self.hanging: dict[float, list[Any]] = {}

    def apply_paragraph_formats(self) -> None:
        self._apply(self.centered, alignment="CENTER")
        self._apply(self.right, alignment="RIGHT")
        for indent_mm, paragraphs in sorted(self.hanging.items()):
            self._apply(paragraphs, alignment="JUSTIFY", indent_left_mm=indent_mm,
                        first_line_indent_mm=-indent_mm)

    def _apply(self, paragraphs: list[Any], **paragraph_format: Any) -> None:
        """Format one paragraph per starting shape with the library, then point the others
        at the shape it made: the library looks its shapes up paragraph by paragraph,
        which grows with the square of a long report."""
        by_shape: dict[str | None, list[Any]] = {}
        for paragraph in paragraphs:
            by_shape.setdefault(paragraph.para_pr_id_ref, []).append(paragraph)
        for first, *others in by_shape.values():
            self.doc.styles.apply_paragraph_format(paragraphs=[first], **paragraph_format)
            for paragraph in others:
                paragraph.para_pr_id_ref = first.para_pr_id_ref


def to_bytes(report: Report) -> bytes:
    doc = HwpxDocument.new()
    try:
        _build(doc, report)
        data = doc.to_bytes()
    finally:
        doc.close()
    check(data)
    return data


def write(report: Report, path: Path) -> None:
    Path(path).write_bytes(to_bytes(report))


def check(data: bytes) -> None:
    """The library's own validation: package, schemas, and that an editor can open it."""
    # One pass runs all three: validate_package, validate_document (the schemas, as
    # hwpx-validate) and a reopen. We hold the result to more than "editor-safe":
    # no package error of any kind and no schema issue at all, warnings included.
    safety = validate_editor_open_safety(data)
    if not safety.ok:
        raise HwpxInvalid(safety.summary)
    problems = [str(issue) for issue in safety.validate_package.errors]
    if safety.validate_document is None:  # the library skipped the schema pass
        raise HwpxInvalid("schema validation did not run")
    problems += [str(issue) for issue in safety.validate_document.issues]
    if problems:
        raise HwpxInvalid("; ".join(problems))


# ─── the document ─────────────────────────────────────────────────────────────


def _build(doc: HwpxDocument, report: Report) -> None:
    doc.page.setup(paper_size="A4", margin_top_mm=20, margin_bottom_mm=15,
                   margin_left_mm=20, margin_right_mm=20, header_margin_mm=10,
                   footer_margin_mm=10)
    doc.page.set_page_number(prefix="- ", suffix=" -")
    styles = _Styles(doc)

    # The new document's first paragraph holds the section settings; it takes the title.
    first = doc.paragraphs[0]
    first.text = report.title
    first.char_pr_id_ref = styles.title
    styles.centered.append(first)
    styles.centered.append(doc.add_paragraph(report.organisation, char_pr_id_ref=styles.heading))
    styles.right.append(doc.add_paragraph(report.reference_label, char_pr_id_ref=styles.body))

    doc.add_paragraph("", char_pr_id_ref=styles.body)
    doc.add_paragraph(OVERVIEW_HEADING, char_pr_id_ref=styles.heading)
    doc.add_paragraph(f"  {report.items_line}", char_pr_id_ref=styles.body)
    doc.add_paragraph(f"  {TABLE_LINE_LABEL}", char_pr_id_ref=styles.body)
    _summary_table(doc, styles, report.table())

    for section in report.sections:
        doc.add_paragraph("", char_pr_id_ref=styles.body)
        heading = doc.add_paragraph(section.heading, char_pr_id_ref=styles.heading)
        styles.centered.append(heading)
        _section_table(doc, styles, section)

    styles.apply_paragraph_formats()


def _table(doc: HwpxDocument, styles: _Styles, rows: int, weights: Sequence[int]) -> Any:
    table = doc.add_table(rows, len(weights), border_fill_id_ref=styles.border,
                          char_pr_id_ref=styles.cell)
    table.set_column_widths(list(weights))
    # The library has no call for these two OWPML attributes: the first row is the
    # table's header (hp:tc@header) and Hancom repeats it after a page break.
    table.element.set("repeatHeader", "1")
    for col in range(len(weights)):
        table.cell(0, col).element.set("header", "1")
        table.set_cell_border_fill(0, col, styles.header_border)
    return table


def _fill(cell: Any, lines: Iterable[str], char_pr: str) -> list[Any]:
    """One paragraph per line in ``cell`` (its blank first paragraph takes the first line)."""
    paragraphs = []
    lines = list(lines) or [""]
    first = cell.paragraphs[0]
    first.text = lines[0]
    first.char_pr_id_ref = char_pr
    paragraphs.append(first)
    for line in lines[1:]:
        paragraphs.append(cell.add_paragraph(line, char_pr_id_ref=char_pr))
    return paragraphs


def _cells(table: Any) -> list[list[Any]]:
    """The cells by row. Our tables merge nothing, so each row holds one cell per column;
    ``table.cell(r, c)`` would rebuild the whole grid on every call."""
    return [row.cells for row in table.rows]


def _summary_table(doc: HwpxDocument, styles: _Styles, rows: list[list[str]]) -> None:
    header = rows[0]
    weights = [*SUMMARY_COLUMN_WEIGHTS, *([2] * (len(header) - 1))]
    cells = _cells(_table(doc, styles, len(rows), weights))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            bold = r == 0 or (r == 1 and c == 0)
            styles.centered += _fill(cells[r][c], [text], styles.cell_bold if bold else styles.cell)


def _section_table(doc: HwpxDocument, styles: _Styles, section: ReportSection) -> None:
    cells = _cells(_table(doc, styles, 1 + len(section.items), ITEM_COLUMN_WEIGHTS))
    styles.centered += _fill(cells[0][0], [section.left_header], styles.cell_bold)
    styles.centered += _fill(cells[0][1], [section.right_header], styles.cell_bold)
    for (left_cell, right_cell), item in zip(cells[1:], section.items, strict=True):
        for cell in (left_cell, right_cell):
            cell.element.find(f"{_HP}subList").set("vertAlign", "TOP")
        left = _fill(left_cell, [item.council_line], styles.cell)
        _hang(styles, left, [item.council_line])
        _result_cell(styles, right_cell, item)


def _result_cell(styles: _Styles, cell: Any, item: ReportItem) -> None:
    # The wording (추진상황, 미반영 사유, 추진내용 or "작성 전", 향후계획) is the content model's.
    lines = item.result_lines()
    paragraphs = _fill(cell, lines, styles.cell)
    _hang(styles, paragraphs, lines)


def _hang(styles: _Styles, paragraphs: list[Any], lines: list[str]) -> None:
    """A hanging indent as wide as the line's leading spaces and marker, in the cell's font."""
    for paragraph, line in zip(paragraphs, lines, strict=True):
        indent = round(_lead_width_em(line) * TABLE_PT * _PT_TO_MM, 1)
        styles.hanging.setdefault(indent, []).append(paragraph)


def _lead_width_em(line: str) -> float:
    """Width of "   - " (the spaces, the marker and one space) in em: Hangul full, the rest half."""
    stripped = line.lstrip(" ")
    width = (len(line) - len(stripped)) * 0.5
    marker, _, rest = stripped.partition(" ")
    if not rest or len(marker) > 3:
        return width  # no marker: the line hangs on its spaces alone
    width += sum(1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.5 for ch in marker)
    return width + 0.5


_HP = "{http://www.hancom.co.kr/hwpml/2011/paragraph}"
