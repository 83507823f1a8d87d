"""Reading the report files back (no tests here): HTML (html.parser), PDF (pdfplumber), CSV (csv),
and any spreadsheet through LibreOffice, a reader independent of the library that wrote it.

Each reader returns plain data (texts and table cells) so a test can compare a
file with the report model and with the summary engine.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pdfplumber
import pytest

from tests.test_seed_document import norm

MM = 72 / 25.4


# --- HTML ---------------------------------------------------------------------------------------


@dataclass
class HtmlReport:
    title: str = ""
    h1: str = ""
    reference: str = ""
    organisation: str = ""
    count_line: str = ""
    summary: list[list[str]] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    column_headers: list[list[str]] = field(default_factory=list)
    items: list[tuple[int, str, str, str]] = field(default_factory=list)  # number, state, left, right


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = HtmlReport()
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.table_class: str | None = None
        self.in_thead = False
        self.item: tuple[int, str] | None = None
        self.capture: str | None = None

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        attributes = dict(attrs)
        if tag in {"meta", "col", "br"}:
            return
        self.stack.append((tag, attributes))
        classes = (attributes.get("class") or "").split()
        if tag == "table":
            self.table_class = classes[0] if classes else None
        elif tag == "thead":
            self.in_thead = True
        elif tag == "tr":
            self.row = []
            if attributes.get("data-number"):
                self.item = (int(attributes["data-number"]), attributes.get("data-state") or "")
        elif tag in {"td", "th"}:
            self.cell = []
        elif tag in {"title", "h1", "h2"} or {"reference", "organisation", "count-line"} & set(classes):
            self.capture = tag if tag in {"title", "h1", "h2"} else classes[0]
            self.text = []

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag in {"meta", "col", "br"}:
            return
        self.stack.pop()
        if tag in {"td", "th"} and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if self.table_class == "summary":
                self.out.summary.append(self.row)
            elif self.item is not None:
                self.out.items.append((*self.item, self.row[0], self.row[1]))
            elif self.in_thead:
                self.out.column_headers.append(self.row)
            self.row, self.item = None, None
        elif tag == "thead":
            self.in_thead = False
        elif tag == "table":
            self.table_class = None
        elif self.capture and (tag == self.capture or tag in {"p"}):
            value = " ".join("".join(self.text).split())
            if self.capture == "title":
                self.out.title = value
            elif self.capture == "h1":
                self.out.h1 = value
            elif self.capture == "h2":
                self.out.headings.append(value)
            elif self.capture == "count-line":
                self.out.count_line = value
            else:
                setattr(self.out, self.capture, value)
            self.capture = None

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self.cell is not None:
            self.cell.append(data)
        if self.capture:
            self.text.append(data)


def read_html(text: str) -> HtmlReport:
    reader = _Reader()
    reader.feed(text)
    reader.close()
    return reader.out


# --- PDF ----------------------------------------------------------------------------------------

# The item tables' column border, from the document's stylesheet: left margin 20 mm,
# text width 175 mm, the council column 34 % of it. Text sits 2 mm inside each cell.
COLUMN_DIVIDER = (20 + 0.34 * 175) * MM


@dataclass
class PdfReport:
    text: str  # all pages, in reading order
    left: str  # the council column of every page, normalised
    right: str  # the result column of every page, normalised
    fonts: set[str]  # base font names embedded, without the subset prefix
    chars: list[tuple[str, str]]  # (character, font name) of every glyph drawn
    summary: list[list[str]]  # the 조치내역 table of page 1, empty cells kept
    pages: int


def read_pdf(data: bytes) -> PdfReport:
    texts, left, right, chars = [], [], [], []
    fonts: set[str] = set()
    summary: list[list[str]] = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for number, page in enumerate(pdf.pages):
            texts.append(page.extract_text() or "")
            body = (0, 30 * MM, page.width, page.height - 15 * MM)  # inside the top/bottom margins
            left.append(page.crop((0, body[1], COLUMN_DIVIDER, body[3])).extract_text() or "")
            right.append(page.crop((COLUMN_DIVIDER, body[1], page.width, body[3])).extract_text() or "")
            for char in page.chars:
                name = char["fontname"].split("+", 1)[-1]
                fonts.add(name)
                chars.append((char["text"], name))
            if number == 0:
                summary = _summary_table(page)
        pages = len(pdf.pages)
    return PdfReport(
        text="\n".join(texts), left=norm("".join(left)), right=norm("".join(right)),
        fonts=fonts, chars=chars, summary=summary, pages=pages,
    )


def _summary_table(page) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """The rows from the "구분" header on, as long as they have the header's width."""
    rows: list[list[str]] = []
    for table in page.extract_tables():
        for row in table:
            cells = [cell for cell in row if cell is not None]
            if not rows and cells[:1] == ["구분"] or rows and len(cells) == len(rows[0]):
                rows.append(cells)
            elif rows:
                return rows
    return rows


# --- CSV ----------------------------------------------------------------------------------------


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode()), "the CSV starts with a UTF-8 BOM"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def in_order(haystack: str, needles: list[str]) -> list[int]:
    """Positions of each needle, each found after the previous one (-1 when missing)."""
    positions, start = [], 0
    for needle in needles:
        found = haystack.find(needle, start)
        positions.append(found)
        if found >= 0:
            start = found + len(needle)
    return positions


# --- LibreOffice ---------------------------------------------------------------------------------

# Calc's CSV filter: comma, double quote, UTF-8, from line 1, standard cells, default language;
# on import quoted fields as text no, special numbers yes; on export the cells as shown,
# no formulas, no trimming, every sheet (-1, into <name>-<sheet>.csv); on import formulas
# evaluated (so a cell read as a formula would show).
CALC_CSV = "Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1,true"
LIBREOFFICE_MISSING = (
    "LibreOffice Calc with the Carlito font (Calibri's metrics) is needed: "
    "apt-get install libreoffice-calc fonts-crosextra-carlito"
)


def libreoffice() -> str:
    """The soffice binary, or skip the test (fail it under CI=true) when it is absent.

    Carlito is asked for too: without it LibreOffice measures Excel's column widths
    with another font and prints the sheets smaller than Excel would.
    """
    binary = shutil.which("soffice")
    carlito = shutil.which("fc-match") and "Carlito" in subprocess.run(
        ["fc-match", "Calibri"], capture_output=True, text=True, check=False).stdout
    if binary and carlito:
        return binary
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI=true but {LIBREOFFICE_MISSING}")
    pytest.skip(LIBREOFFICE_MISSING)


def convert(sources: list[Path], target: str, outdir: Path, *, infilter: str | None = None
            ) -> list[Path]:
    """``sources`` converted by LibreOffice (one run, a profile of its own) into ``outdir``."""
    binary = libreoffice()
    profile = outdir / f"profile-{uuid.uuid4().hex}"
    command = [binary, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}"]
    if infilter:
        command.append(f"--infilter={infilter}")
    command += ["--convert-to", target, "--outdir", str(outdir), *map(str, sources)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    shutil.rmtree(profile, ignore_errors=True)
    assert done.returncode == 0, done.stderr
    made = sorted(path for path in outdir.iterdir() if path.is_file())
    assert made, f"LibreOffice wrote nothing: {done.stdout} {done.stderr}"
    return made


def calc_sheets(xlsx: Path, outdir: Path) -> dict[str, list[list[str]]]:
    """Every sheet of a workbook as LibreOffice shows its cells: sheet name -> rows."""
    outdir.mkdir(parents=True, exist_ok=True)
    sheets = {}
    for path in convert([xlsx], f"csv:{CALC_CSV}", outdir):
        if path.suffix == ".csv":
            name = path.stem.removeprefix(f"{xlsx.stem}-")
            sheets[name] = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"),
                                                       newline="")))
    return sheets
