"""Independent readers of the HWPX report (no tests here): what each one says about a file.

- hwpx-kit-cli (``hwpx-kit inspect``): structure, preview and layout checks. It pins
  python-hwpx below 3 while the application needs 6, so ``make install`` puts it in a
  virtual environment of its own (``.venv/hwpx-kit``; ``AUDITFLOW_HWPX_KIT`` names another).
- rhwp-python: rhwp's renderer, run in a child process. Its 0.8.1 manylinux wheel bundles a
  FreeType without ``FT_Palette_Data_Get`` (DanMeon/rhwp-python#31), so where importing it
  fails for that symbol the child loads the system FreeType first (Debian libfreetype6).
  The pages it draws come back as SVG and are measured here: where every line of text is
  and where every table cell is.
- python-hwpx's bundled OWPML schema (``hwpx/tools/_schemas/owpml-*.xsd``), unfiltered: the
  library's own ``validate()`` leaves out the deviations Hancom's documents carry, the
  footer in ``hp:secPr`` among them; the tests compare with Hancom's own files instead.

A reader that cannot run here skips its test with the reason, and fails it under CI=true.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from xml.etree import ElementTree

import pytest

REPO = Path(__file__).resolve().parent.parent
HWPX_KIT = Path(os.environ.get("AUDITFLOW_HWPX_KIT") or REPO / ".venv" / "hwpx-kit" / "bin" / "hwpx-kit")


def reader_missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


# --- hwpx-kit-cli --------------------------------------------------------------------------------


def kit_inspect(path: Path, checks: str = "residue,gongmun,pii,structure,preview,layout") -> dict:
    """``hwpx-kit inspect --json``: its report (``issues`` of every check asked for)."""
    if not HWPX_KIT.is_file():
        reader_missing(f"hwpx-kit-cli is not installed at {HWPX_KIT}: run `make install`")
    result = subprocess.run([str(HWPX_KIT), "inspect", "--checks", checks, "--json", str(path)],
                            capture_output=True, text=True, timeout=120, check=False)
    if result.returncode not in (0, 2):  # 2: issues found
        pytest.fail(f"hwpx-kit inspect failed ({result.returncode}): {result.stderr[-2000:]}")
    report: dict = json.loads(result.stdout)["data"]
    return report


# --- rhwp --------------------------------------------------------------------------------------

_RHWP_CHILD = """
import ctypes, ctypes.util, json, sys
try:
    import rhwp
except ImportError as exc:
    if "FT_Palette_Data_Get" not in str(exc):
        raise
    system = ctypes.util.find_library("freetype")
    if system is None:
        raise
    ctypes.CDLL(system, mode=ctypes.RTLD_GLOBAL)  # DanMeon/rhwp-python#31
    import rhwp
document = rhwp.Document.from_bytes(sys.stdin.buffer.read())
json.dump({"core": rhwp.rhwp_core_version(), "pages": document.render_all_svg()}, sys.stdout)
"""


def rhwp_svg_pages(data: bytes) -> list[str]:
    """The pages rhwp draws of the HWPX ``data``, as SVG."""
    try:
        import rhwp  # noqa: F401 - only whether it is installed; it runs in the child
    except ImportError as exc:
        if "FT_Palette_Data_Get" not in str(exc):
            reader_missing(f"rhwp-python is not installed ({exc}): run `make install`")
    result = subprocess.run([sys.executable, "-c", _RHWP_CHILD], input=data, capture_output=True,
                            timeout=300, check=False)
    if result.returncode:
        message = result.stderr.decode(errors="replace")[-2000:]
        if "ImportError" in message or "cannot open shared object" in message:
            reader_missing(f"rhwp-python cannot load on this machine: {message}")
        pytest.fail(f"rhwp failed to render the document: {message}")
    pages: list[str] = json.loads(result.stdout)["pages"]
    return pages


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, other: Box, slack: float = 0.01) -> bool:
        return (self.left < other.right - slack and other.left < self.right - slack
                and self.top < other.bottom - slack and other.top < self.bottom - slack)

    def crossed_by(self, rule: Box, slack: float = 0.3) -> bool:
        """Whether a ruling line (a box of no width or no height) runs through this box."""
        if rule.top == rule.bottom:  # horizontal
            return (self.top + slack < rule.top < self.bottom - slack
                    and rule.left < self.right - slack and self.left + slack < rule.right)
        return (self.left + slack < rule.left < self.right - slack
                and rule.top < self.bottom - slack and self.top + slack < rule.bottom)

    def holds(self, other: Box, slack: float = 0.5) -> bool:
        return (other.left >= self.left - slack and other.right <= self.right + slack
                and other.top >= self.top - slack and other.bottom <= self.bottom + slack)


@dataclass(frozen=True)
class Glyph:
    char: str
    x: float
    baseline: float
    size: float
    cell: str | None  # the cell whose clip group it is drawn in (rhwp clips some cells only)


@dataclass(frozen=True)
class Line:
    text: str
    box: Box
    cell: str | None


@dataclass(frozen=True)
class DrawnPage:
    cells: dict[str, Box]  # the clip rectangles of the cells rhwp clips
    rules: list[Box]  # every ruling line drawn: the tables' borders
    lines: list[Line]
    glyphs: list[Glyph]


_SVG = "{http://www.w3.org/2000/svg}"
_CLIP = re.compile(r"url\(#(cell-clip-\d+)\)")


def read_svg_page(svg: str) -> DrawnPage:
    """Every glyph rhwp drew on a page (``<text>`` elements), the ruling lines (``<line>``,
    the table borders) and the rectangles of the cells it clips; the glyphs by line: the same
    baseline, not parted by a border."""
    root = ElementTree.fromstring(svg)
    cells = {}
    for clip in root.iter(f"{_SVG}clipPath"):
        name = clip.get("id", "")
        rect = clip.find(f"{_SVG}rect")
        if name.startswith("cell-clip-") and rect is not None:
            x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
            cells[name] = Box(x, y, x + float(rect.get("width", 0)), y + float(rect.get("height", 0)))
    rules = []
    for line in root.iter(f"{_SVG}line"):
        x1, y1, x2, y2 = (float(line.get(name, 0)) for name in ("x1", "y1", "x2", "y2"))
        if x1 == x2 or y1 == y2:
            rules.append(Box(min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)))
    glyphs: list[Glyph] = []

    def walk(element: ElementTree.Element, cell: str | None) -> None:
        clipped = _CLIP.search(element.get("clip-path", ""))
        if clipped and clipped.group(1) in cells:
            cell = clipped.group(1)
        if element.tag == f"{_SVG}text" and (element.text or "").strip():
            glyphs.append(Glyph(element.text or "", float(element.get("x", 0)),
                                float(element.get("y", 0)), float(element.get("font-size", 0)),
                                cell))
        for child in element:
            walk(child, cell)

    walk(root, None)
    return DrawnPage(cells, rules, _lines(glyphs, rules), glyphs)


def _advance(glyph: Glyph) -> float:
    """How wide rhwp draws a glyph of a face it has no metrics for: a full em for East Asian
    wide characters, half an em for the others (rhwp's text_measurement.rs)."""
    wide = any(unicodedata.east_asian_width(char) in "WFA" for char in glyph.char)
    return glyph.size * (1 if wide else 0.5) * len(glyph.char)


def _lines(glyphs: list[Glyph], rules: list[Box]) -> list[Line]:
    by_baseline: dict[tuple[str | None, float], list[Glyph]] = {}
    for glyph in glyphs:
        by_baseline.setdefault((glyph.cell, round(glyph.baseline, 1)), []).append(glyph)
    lines = []
    for (cell, _baseline), members in by_baseline.items():
        members.sort(key=lambda glyph: glyph.x)
        parts = [[members[0]]]
        for before, glyph in zip(members, members[1:], strict=False):
            parted = any(rule.left == rule.right and before.x < rule.left < glyph.x
                         and rule.top <= glyph.baseline <= rule.bottom for rule in rules)
            if parted:
                parts.append([glyph])
            else:
                parts[-1].append(glyph)
        for part in parts:
            size = max(glyph.size for glyph in part)
            baseline = part[0].baseline
            right = max(glyph.x + _advance(glyph) for glyph in part)
            box = Box(part[0].x, baseline - 0.85 * size, right, baseline + 0.15 * size)
            lines.append(Line("".join(glyph.char for glyph in part), box, cell))
    return lines


def layout_faults(pages: list[DrawnPage]) -> list[str]:
    """What is wrong with the drawn pages: two lines of text drawn over each other, a line
    that a table border runs through (text across a cell's edge), or a line of a clipped
    cell drawn outside the cell. Empty when the layout holds."""
    faults = []
    for number, page in enumerate(pages, start=1):
        for line in page.lines:
            if line.cell is not None and not page.cells[line.cell].holds(line.box):
                faults.append(f"page {number}: {line.text[:30]!r} outside its cell")
            if any(line.box.crossed_by(rule) for rule in page.rules):
                faults.append(f"page {number}: {line.text[:30]!r} across a cell border")
        for index, line in enumerate(page.lines):
            for other in page.lines[index + 1:]:
                if line.box.overlaps(other.box):
                    faults.append(f"page {number}: {line.text[:30]!r} over {other.text[:30]!r}")
    return faults


# --- the OWPML schema python-hwpx ships -----------------------------------------------------


def owpml_violations(data: bytes) -> Counter[str]:
    """Every violation of the bundled OWPML schema in the header and sections of ``data``,
    as python-hwpx names them ("section | paragraph:footer: element not expected")."""
    from hwpx.tools.validator import _owpml_violations  # the unfiltered full-schema pass

    found: Counter[str] = Counter()
    with zipfile.ZipFile(BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("Contents/") and name.endswith(".xml"):
                kind = "header" if "header" in name else "section" if "section" in name else None
                if kind is None:
                    continue
                for signature, _line in _owpml_violations(archive.read(name), kind):
                    found[f"{kind} | {signature}"] += 1
    return found
