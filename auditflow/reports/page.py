"""The printed page of the council report, once for every writer that lays out pages.

The HTML/PDF stylesheet (templates/reports/document.css) is rendered from these
numbers and the HWPX writer sets its section, character and paragraph shapes from
them, so the two documents cannot drift apart: A4, the public-document margins
(공문서 작성 기준, 행정업무운영 편람: top 30 mm, right 15 mm, bottom 15 mm,
left 20 mm), Pretendard GOV (the KRDS typeface) in the same sizes, lines 1.5 times
the type size, the same cell padding and column widths, and "- n -" centred in the
bottom margin.

Nothing here imports the application: it is plain data and two unit conversions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KRDS_FONTS = REPO / "node_modules" / "krds-uiux" / "resources" / "fonts"

HWPUNIT_PER_INCH = 7200  # OWPML lengths: 1 pt = 100 HWPUNIT
MM_PER_INCH = 25.4


def hwpunit(mm: float) -> int:
    """A length in millimetres as OWPML writes it (HWPUNIT, 1/7200 inch)."""
    return round(mm * HWPUNIT_PER_INCH / MM_PER_INCH)


def pt_hwpunit(pt: float) -> int:
    """A type size or spacing in points as HWPUNIT (1 pt = 100)."""
    return round(pt * 100)


@dataclass(frozen=True)
class Margins:
    top: float
    right: float
    bottom: float
    left: float

    @property
    def css(self) -> str:
        """The CSS shorthand, top right bottom left: "30mm 15mm 15mm 20mm"."""
        return " ".join(f"{side:g}mm" for side in (self.top, self.right, self.bottom, self.left))


@dataclass(frozen=True)
class Sizes:
    """Type sizes in points, by what they set."""

    title: float  # 2025 행정사무감사 처리결과
    organisation: float
    reference: float  # '26.1.31. 기준
    heading: float  # □ 총  괄, the category headings
    body: float  # the overview lines and every table cell
    due_changes: float  # the 기한 변경 내역 table
    page_number: float


@dataclass(frozen=True)
class Font:
    family: str  # the name both documents ask for
    fallback: str  # PDF: the family that draws what the primary lacks (Debian fonts-noto-cjk)
    substitute: str  # HWPX: the face Hancom takes when the primary is not installed
    files: tuple[tuple[int, str], ...]  # CSS weight -> file of the KRDS package

    def file(self, weight: int) -> Path:
        return KRDS_FONTS / dict(self.files)[weight]


@dataclass(frozen=True)
class Page:
    paper: str
    width_mm: float
    height_mm: float
    margins: Margins
    font: Font
    sizes: Sizes
    line_height: float  # line pitch over the type size (CSS line-height, Hancom's 줄 간격 %)
    cell_padding_mm: tuple[float, float]  # vertical, horizontal
    item_columns: tuple[int, int]  # per cent of the table width: council text | action result
    header_fill: str  # table header rows
    total_fill: str  # the 계 row of the 조치내역 table
    page_number_prefix: str
    page_number_suffix: str

    @property
    def body_width_mm(self) -> float:
        return self.width_mm - self.margins.left - self.margins.right

    @property
    def body_height_mm(self) -> float:
        return self.height_mm - self.margins.top - self.margins.bottom

    @property
    def cell_padding_css(self) -> str:
        vertical, horizontal = self.cell_padding_mm
        return f"{vertical:g}mm {horizontal:g}mm"

    @property
    def line_spacing_percent(self) -> int:
        return round(self.line_height * 100)

    def page_number(self, number: int) -> str:
        return f"{self.page_number_prefix}{number}{self.page_number_suffix}"


PAGE = Page(
    paper="A4",
    width_mm=210,
    height_mm=297,
    margins=Margins(top=30, right=15, bottom=15, left=20),
    font=Font(
        family="Pretendard GOV",
        fallback="Noto Sans CJK KR",
        substitute="맑은 고딕",
        files=((400, "PretendardGOV-Regular.subset.woff"),
               (500, "PretendardGOV-Medium.subset.woff"),
               (700, "PretendardGOV-Bold.subset.woff")),
    ),
    sizes=Sizes(title=17, organisation=12, reference=10, heading=13, body=11, due_changes=10,
                page_number=9),
    line_height=1.5,
    cell_padding_mm=(1.5, 2),
    item_columns=(34, 66),
    header_fill="#E8E8E8",
    total_fill="#F4F4F4",
    page_number_prefix="- ",
    page_number_suffix=" -",
)
