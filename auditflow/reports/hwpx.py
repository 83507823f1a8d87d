"""The council report as an HWPX document (한글), written with the python-hwpx library.

The layout follows section 5 of the work report: the title, the body's name and
the reference date; "□ 총  괄" with the item count and the 조치내역 table; then
one two-column table per category (the council's text | the action result),
whose header row repeats on every page. The page is the PDF's (``reports.page``):
A4 with the public-document margins, Pretendard GOV (맑은 고딕 where it is not
installed) in the PDF's sizes, lines 1.5 times the type size, the PDF's cell
padding and column widths, grey header rows, and "- n -" once, in the footer,
centred in the bottom margin.

Every cell carries its layout: each paragraph's lines (the ``hp:linesegarray``
cache) and a height that holds them, both computed from the text and the column
width (``reports.typeset``), so readers that draw from the stored layout (rhwp,
hwpforge) draw what Hancom does. Outline lines keep the indentation
``outline.to_plain`` gives them and hang once (Hancom's 내어쓰기, ``intent`` < 0 with
no left margin): a wrapped line starts under the text, not under the marker.

The document properties name the report (title), the organisation (author) and
the edition's day (``Report.issued_on``, else the reference date): nothing in the
file depends on when it was written, and its ids are numbered in document order, so
the same report gives the same bytes; the zip entries carry one fixed time (1980-01-01,
the zip format's first day, as the XLSX's do) instead of the library template's. The
preview text (``Preview/PrvText.txt``) is
the report's text, as Hancom writes it.

Before the bytes leave this module the library's own checks run: the package
structure (``validate_package``), the XML against the OWPML schemas
(``HwpxDocument.validate``) and the editor-open safety check. A document that
fails them is a bug here, so it raises instead of being handed to the liaison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hwpx import HwpxDocument, validate_editor_open_safety

from auditflow.reports import typeset
from auditflow.reports.content import (
    OVERVIEW_HEADING,
    TABLE_LINE_LABEL,
    Report,
    ReportItem,
    ReportSection,
)
from auditflow.reports.page import PAGE, hwpunit, pt_hwpunit
from auditflow.reports.progress import Progress, Steps

BLACK = "#000000"
RULE = "0.12 mm"
SUMMARY_COLUMN_WEIGHTS = (3,)  # 구분 column; the count columns share the rest equally
PREVIEW_CHARS = 1024  # Hancom keeps about this much of the text as the preview
# Spacing between blocks (mm), as document.css spaces them once its margins collapse.
SPACE_AFTER_TITLE = 2
SPACE_BEFORE_REFERENCE = 1
SPACE_BEFORE_OVERVIEW = 8  # .doc-head's 8 mm; h2's own 6 mm collapses into it
SPACE_BEFORE_HEADING = 6
SPACE_AFTER_HEADING = 3
SPACE_AROUND_OVERVIEW_LINE = 1.5
OVERVIEW_LINE_INDENT = 4
SPACE_BEFORE_SUMMARY = 2
SPACE_BEFORE_RESULT_BLOCK = 1  # .result-block's top margin inside a result cell

_HP = "{http://www.hancom.co.kr/hwpml/2011/paragraph}"
_HH = "{http://www.hancom.co.kr/hwpml/2011/head}"
_HC = "{http://www.hancom.co.kr/hwpml/2011/core}"


class HwpxInvalid(RuntimeError):
    """The library's validation refused the document we generated."""


@dataclass
class _Cell:
    """A cell as written: its element and, per paragraph, the element and how it is set."""

    element: Any
    paragraphs: list[tuple[Any, typeset.Paragraph]] = field(default_factory=list)


@dataclass(frozen=True)
class _Shape:
    """A paragraph shape the document needs, applied to its paragraphs at the end."""

    alignment: str
    hang_mm: float = 0
    left_mm: float = 0
    before_mm: float = 0
    after_mm: float = 0


class _Styles:
    """The character and paragraph shapes the report uses, minted once per document."""

    def __init__(self, doc: HwpxDocument) -> None:
        self.doc = doc
        styles = doc.styles
        font = PAGE.font.family
        styles.ensure_font(font, subst_face=PAGE.font.substitute, subst_type="TTF")
        sizes = PAGE.sizes
        self.title = styles.ensure_run(font=font, size=sizes.title, bold=True)
        self.organisation = styles.ensure_run(font=font, size=sizes.organisation)
        self.reference = styles.ensure_run(font=font, size=sizes.reference)
        self.heading = styles.ensure_run(font=font, size=sizes.heading, bold=True)
        self.body = styles.ensure_run(font=font, size=sizes.body)
        self.cell = styles.ensure_run(font=font, size=sizes.body)
        self.cell_bold = styles.ensure_run(font=font, size=sizes.body, bold=True)
        self.page_number = styles.ensure_run(font=font, size=sizes.page_number)
        self.border = styles.ensure_border_fill(border_color=BLACK, border_width=RULE)
        self.header_border = styles.ensure_border_fill(
            border_color=BLACK, border_width=RULE, fill_color=PAGE.header_fill)
        self.total_border = styles.ensure_border_fill(
            border_color=BLACK, border_width=RULE, fill_color=PAGE.total_fill)
        self.shapes: dict[_Shape, list[Any]] = {}

    def shape(self, paragraph: Any, shape: _Shape) -> None:
        self.shapes.setdefault(shape, []).append(paragraph)

    def apply_paragraph_formats(self) -> None:
        for shape, paragraphs in self.shapes.items():
            self._apply(paragraphs, alignment=shape.alignment,
                        line_spacing_percent=PAGE.line_spacing_percent,
                        indent_left_mm=shape.left_mm, first_line_indent_mm=-shape.hang_mm,
                        spacing_before_pt=_pt(shape.before_mm), spacing_after_pt=_pt(shape.after_mm))

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


def to_bytes(report: Report, progress: Progress | None = None) -> bytes:
    steps = Steps(progress, len(report.items))
    doc = HwpxDocument.new()
    try:
        _build(doc, report, steps)
        data = _fixed_entry_times(doc.to_bytes())
    finally:
        doc.close()
    check(data)
    steps.finish()
    return data


ENTRY_TIME = (1980, 1, 1, 0, 0, 0)


def _fixed_entry_times(data: bytes) -> bytes:
    """The package again, entry by entry in the same order, each dated ``ENTRY_TIME``."""
    import io
    import zipfile

    output = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(output, "w") as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=ENTRY_TIME)
            info.compress_type = entry.compress_type
            info.external_attr = entry.external_attr
            target.writestr(info, source.read(entry))
    return output.getvalue()


def write(report: Report, path: Any, progress: Progress | None = None) -> None:
    from pathlib import Path

    Path(path).write_bytes(to_bytes(report, progress))


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


def _build(doc: HwpxDocument, report: Report, steps: Steps | None = None) -> None:
    margins = PAGE.margins
    # The body starts 30 mm down and ends 15 mm up, as in the PDF; Hancom counts the footer
    # inside that bottom margin, so the footer takes all of it and the number sits in its
    # middle, where the PDF puts it.
    doc.page.setup(paper_size=PAGE.paper, margin_top_mm=margins.top, margin_bottom_mm=0,
                   margin_left_mm=margins.left, margin_right_mm=margins.right,
                   header_margin_mm=0, footer_margin_mm=margins.bottom)
    styles = _Styles(doc)
    tables: list[list[list[_Cell]]] = []

    # The new document's first paragraph holds the section settings; it takes the title.
    first = doc.paragraphs[0]
    first.text = report.title
    first.char_pr_id_ref = styles.title
    styles.shape(first, _Shape("CENTER", after_mm=SPACE_AFTER_TITLE))
    styles.shape(doc.add_paragraph(report.organisation, char_pr_id_ref=styles.organisation),
                 _Shape("CENTER"))
    styles.shape(doc.add_paragraph(report.reference_label, char_pr_id_ref=styles.reference),
                 _Shape("RIGHT", before_mm=SPACE_BEFORE_REFERENCE))
    styles.shape(doc.add_paragraph(OVERVIEW_HEADING, char_pr_id_ref=styles.heading),
                 _Shape("LEFT", before_mm=SPACE_BEFORE_OVERVIEW, after_mm=SPACE_AFTER_HEADING))
    line = _Shape("LEFT", left_mm=OVERVIEW_LINE_INDENT, after_mm=SPACE_AROUND_OVERVIEW_LINE)
    styles.shape(doc.add_paragraph(report.items_line, char_pr_id_ref=styles.body), line)
    styles.shape(doc.add_paragraph(TABLE_LINE_LABEL, char_pr_id_ref=styles.body), line)
    tables.append(_summary_table(doc, styles, report.table()))

    for section in report.sections:
        heading = doc.add_paragraph(section.heading, char_pr_id_ref=styles.heading)
        styles.shape(heading, _Shape("CENTER", before_mm=SPACE_BEFORE_HEADING,
                                     after_mm=SPACE_AFTER_HEADING))
        tables.append(_section_table(doc, styles, section, steps))

    styles.apply_paragraph_formats()
    header = doc.oxml.headers[0]
    _keep_words_together(header.element)
    shapes = _paragraph_margins(header.element)
    for cells in tables:
        _lay_out(cells, shapes)
    _footer(first, styles)
    _properties(doc, report)
    section = doc.oxml.sections[0]
    _number_ids(section.element)
    section.mark_dirty()
    header.mark_dirty()


def _pt(mm: float) -> float:
    return mm * 72 / 25.4


def _table(doc: HwpxDocument, styles: _Styles, rows: int, weights: Sequence[int],
           spacing_before_mm: float = 0) -> tuple[Any, list[list[_Cell]]]:
    table = doc.add_table(rows, len(weights), border_fill_id_ref=styles.border,
                          char_pr_id_ref=styles.cell)
    table.set_column_widths(list(weights))
    anchor = doc.paragraphs[-1]  # the paragraph the library made to hold the table
    assert anchor.element is table.element.getparent().getparent()
    styles.shape(anchor, _Shape("LEFT", before_mm=spacing_before_mm))
    vertical, horizontal = (hwpunit(mm) for mm in PAGE.cell_padding_mm)
    padding = {"left": horizontal, "right": horizontal, "top": vertical, "bottom": vertical}
    for side, value in padding.items():
        table.element.find(f"{_HP}inMargin").set(side, str(value))
    # The library has no call for these OWPML attributes. The table flows with the text
    # rather than standing as one character, so that it can go on over a page end, between
    # rows (pageBreak CELL: rows are kept whole, as in the PDF); its first row is its
    # header (hp:tc@header), which Hancom repeats after the page break.
    table.element.set("repeatHeader", "1")
    table.element.set("pageBreak", "CELL")
    table.element.find(f"{_HP}pos").set("treatAsChar", "0")
    cells = [[_Cell(cell.element) for cell in row.cells] for row in table.rows]
    for row in cells:
        for cell in row:
            cell.element.set("hasMargin", "0")
            for side, value in padding.items():
                cell.element.find(f"{_HP}cellMargin").set(side, str(value))
    for col, cell in enumerate(cells[0]):
        cell.element.set("header", "1")
        table.set_cell_border_fill(0, col, styles.header_border)
    return table, cells


def _summary_table(doc: HwpxDocument, styles: _Styles, rows: list[list[str]]) -> list[list[_Cell]]:
    header = rows[0]
    weights = [*SUMMARY_COLUMN_WEIGHTS, *([2] * (len(header) - 1))]
    table, cells = _table(doc, styles, len(rows), weights, SPACE_BEFORE_SUMMARY)
    for col in range(len(header)):
        if len(rows) > 1:
            table.set_cell_border_fill(1, col, styles.total_border)
    centred = _Shape("CENTER")
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            bold = r <= 1  # the header and the 계 row, as the PDF sets them
            _write_cell(table, r, c, cells[r][c], [text], styles, centred, bold=bold)
    return cells


def _section_table(doc: HwpxDocument, styles: _Styles, section: ReportSection,
                   steps: Steps | None = None) -> list[list[_Cell]]:
    table, cells = _table(doc, styles, 1 + len(section.items), PAGE.item_columns)
    centred = _Shape("CENTER")
    _write_cell(table, 0, 0, cells[0][0], [section.left_header], styles, centred, bold=True)
    _write_cell(table, 0, 1, cells[0][1], [section.right_header], styles, centred, bold=True)
    for r, item in enumerate(section.items, start=1):
        for cell in cells[r]:
            cell.element.find(f"{_HP}subList").set("vertAlign", "TOP")
        _write_cell(table, r, 0, cells[r][0], [item.council_line], styles, None)
        _write_cell(table, r, 1, cells[r][1], _result_lines(item), styles, None,
                    headings={block.heading for block in item.blocks()})
        if steps is not None:
            steps.advance()
    return cells


def _result_lines(item: ReportItem) -> list[str]:
    # The wording (추진상황, 미반영 사유, 추진내용 or "작성 전", 향후계획) is the content model's.
    return item.result_lines()


def _write_cell(table: Any, row: int, col: int, cell: _Cell, lines: list[str], styles: _Styles,
                shape: _Shape | None, *, bold: bool = False,
                headings: set[str] | None = None) -> None:
    """Write ``lines`` into the cell, one paragraph each, and note how each is set. Without a
    ``shape`` each line hangs on its leading spaces and marker (an outline line); with
    ``headings`` those lines (the result's block headings) get the PDF's space above them."""
    char_pr = styles.cell_bold if bold else styles.cell
    size = pt_hwpunit(PAGE.sizes.body)
    lines = lines or [""]
    target = _cell_object(table, row, col)
    first = target.paragraphs[0]
    first.text = lines[0]
    first.char_pr_id_ref = char_pr
    paragraphs = [first, *(target.add_paragraph(line, char_pr_id_ref=char_pr) for line in lines[1:])]
    for number, (paragraph, line) in enumerate(zip(paragraphs, lines, strict=True)):
        before = SPACE_BEFORE_RESULT_BLOCK if headings and number and line in headings else 0
        if shape is None:
            hang = typeset.drawn_width(_lead(line), size, bold) * 25.4 / 7200
            used = _Shape("LEFT", hang_mm=round(hang, 2), before_mm=before)
        else:
            used = _Shape(shape.alignment, before_mm=before)
        styles.shape(paragraph, used)
        cell.paragraphs.append((paragraph, typeset.Paragraph(line, size, bold=bold)))


def _cell_object(table: Any, row: int, col: int) -> Any:
    return table.rows[row].cells[col]


def _lead(line: str) -> str:
    """The part of an outline line a wrapped line hangs under: "   - " (the spaces, the
    marker and one space); nothing for a line without a marker."""
    stripped = line.lstrip(" ")
    spaces = line[: len(line) - len(stripped)]
    marker, _, rest = stripped.partition(" ")
    if not rest or len(marker) > 3:
        return spaces  # no marker: the line hangs on its spaces alone
    return f"{spaces}{marker} "


# ─── the stored layout ────────────────────────────────────────────────────────


@dataclass(frozen=True)
class _Margins:
    left: int
    intent: int
    prev: int


def _paragraph_margins(header: Any) -> dict[str, _Margins]:
    """Each paragraph shape's left margin, first-line indent and spacing above (HWPUNIT), as
    the header holds them (the HwpUnitChar case of its switch, which Hancom reads)."""
    shapes = {}
    for para_pr in header.iter(f"{_HH}paraPr"):
        margin = next(para_pr.iter(f"{_HH}margin"))
        values = {child.tag.removeprefix(_HC): int(child.get("value", 0)) for child in margin}
        shapes[para_pr.get("id")] = _Margins(values.get("left", 0), values.get("intent", 0),
                                             values.get("prev", 0))
    return shapes


def _keep_words_together(header: Any) -> None:
    """Lines break between words (어절) in every script, as the PDF's ``keep-all`` does."""
    for setting in header.iter(f"{_HH}breakSetting"):
        setting.set("breakLatinWord", "KEEP_WORD")
        setting.set("breakNonLatinWord", "KEEP_WORD")


def _lay_out(cells: list[list[_Cell]], shapes: dict[str, _Margins]) -> None:
    """Each cell's lines and each row's height, from the cells' text and widths."""
    vertical, horizontal = (hwpunit(mm) for mm in PAGE.cell_padding_mm)
    table = cells[0][0].element.getparent().getparent()
    total = 0
    for row in cells:
        heights = []
        for cell in row:
            size = cell.element.find(f"{_HP}cellSz")
            width = int(size.get("width")) - 2 * horizontal
            specs = []
            for paragraph, spec in cell.paragraphs:
                margins = shapes[paragraph.para_pr_id_ref]
                specs.append(typeset.Paragraph(spec.text, spec.size, spec.bold, left=margins.left,
                                               indent=margins.intent, before=margins.prev))
            layout = typeset.lay_out_cell(specs, width)
            for (paragraph, _spec), segments in zip(cell.paragraphs, layout.paragraphs,
                                                    strict=True):
                _write_cache(paragraph.element, segments)
            heights.append(layout.height + 2 * vertical)
        height = max(heights)
        for cell in row:
            cell.element.find(f"{_HP}cellSz").set("height", str(height))
        total += height
    table.find(f"{_HP}sz").set("height", str(total))


def _write_cache(paragraph: Any, segments: Sequence[typeset.Segment]) -> None:
    for old in paragraph.findall(f"{_HP}linesegarray"):
        paragraph.remove(old)
    array = _child(paragraph, "linesegarray")
    for segment in segments:
        _child(array, "lineseg", segment.attributes())


def _child(parent: Any, name: str, attributes: dict[str, str] | None = None) -> Any:
    """A new ``hp:`` element at the end of ``parent`` (lxml, as the library's elements are)."""
    element = parent.makeelement(f"{_HP}{name}", attributes or {})
    parent.append(element)
    return element


# ─── footer, properties, ids ──────────────────────────────────────────────────


def _footer(first: Any, styles: _Styles) -> None:
    """The page number, once: "- n -" in a footer on every page, centred in the bottom margin.

    The footer is a control in the first paragraph's text, as OWPML places it (not inside
    ``hp:secPr``), and the number is the footer's own page-number field; no 쪽 번호 control
    (``hp:pageNum``) draws a second one."""
    run = first.element.find(f"{_HP}run")
    ctrl = run.makeelement(f"{_HP}ctrl", {})
    footer = _child(ctrl, "footer", {"id": "0", "applyPageType": "BOTH"})
    sub_list = _child(footer, "subList", {
        "id": "", "textDirection": "HORIZONTAL", "lineWrap": "BREAK", "vertAlign": "CENTER",
        "linkListIDRef": "0", "linkListNextIDRef": "0",
        "textWidth": str(hwpunit(PAGE.body_width_mm)),
        "textHeight": str(hwpunit(PAGE.margins.bottom)), "hasTextRef": "0", "hasNumRef": "0"})
    centred = styles.shapes[_Shape("CENTER")][0].para_pr_id_ref
    paragraph = _child(sub_list, "p", {
        "id": "0", "paraPrIDRef": str(centred), "styleIDRef": "0", "pageBreak": "0",
        "columnBreak": "0", "merged": "0"})

    # One run, as Hancom writes it: "- ", the page-number field, " -".
    holder = _child(paragraph, "run", {"charPrIDRef": str(styles.page_number)})
    _child(holder, "t").text = PAGE.page_number_prefix
    auto = _child(_child(holder, "ctrl"), "autoNum", {"num": "1", "numType": "PAGE"})
    _child(auto, "autoNumFormat", {"type": "DIGIT", "userChar": "", "prefixChar": "",
                                   "suffixChar": "", "supscript": "0"})
    _child(holder, "t").text = PAGE.page_number_suffix
    # After the section's settings and its column control, before the title's text.
    controls = [child for child in run if child.tag in (f"{_HP}secPr", f"{_HP}ctrl")]
    run.insert(run.index(controls[-1]) + 1 if controls else 0, ctrl)


def _properties(doc: HwpxDocument, report: Report) -> None:
    """Title, author and dates of the document: the report's, never the moment of writing."""
    # The day alone, at 00:00 UTC: the same calendar day in Seoul and wherever it is read.
    day = report.document_day
    stamp = f"{day.isoformat()}T00:00:00Z"
    parts = doc.parts
    parts.clear_document_metadata(keep=("title", "language"), timestamp=stamp)
    parts.set_document_metadata(title=document_title(report), creator=report.organisation,
                                created_date=stamp, modified_date=stamp)
    package = doc.package
    manifest = package.main_content.full_path
    root = package.get_xml(manifest)
    for meta in root.iter("{http://www.idpf.org/2007/opf/}meta"):
        if meta.get("name") == "lastsaveby":
            meta.text = report.organisation
    package.set_xml(manifest, root)
    package.set_part("Preview/PrvText.txt", preview_text(report).encode("utf-8"))


def document_title(report: Report) -> str:
    """As the HTML document's title: "2025 행정사무감사 처리결과('26.1.31. 기준)"."""
    return f"{report.title}({report.reference_label})"


def preview_text(report: Report) -> str:
    """The report's text as Hancom keeps it for previews: a line per paragraph, a table row
    as its cells in angle brackets, lines ended by CR LF, the first 1024 characters."""
    lines = [report.title, report.organisation, report.reference_label, OVERVIEW_HEADING,
             report.items_line, TABLE_LINE_LABEL]
    lines += ["".join(f"<{cell}>" for cell in row) for row in report.table()]
    for section in report.sections:
        lines += [section.heading, f"<{section.left_header}><{section.right_header}>"]
        for item in section.items:
            result = " ".join(line.strip() for line in _result_lines(item))
            lines.append(f"<{item.council_line}><{result}>")
    return "\r\n".join(lines)[:PREVIEW_CHARS]


def _number_ids(section: Any) -> None:
    """Number the paragraphs', tables' and footers' ids in document order (the library draws
    them at random), so the same report always gives the same bytes."""
    for number, element in enumerate(
            (element for element in section.iter(f"{_HP}p", f"{_HP}tbl", f"{_HP}footer")
             if element.get("id", "").isdigit()), start=1):
        element.set("id", str(number))
