"""The report's table text set in lines: where each line starts, how tall each cell is.

An HWPX file carries the layout its writer computed: each paragraph's lines (the
``hp:linesegarray`` layout cache: where each line starts in the text and how far
down it sits) and each cell's height. Hancom takes the line starts and the heights
as written; other readers (rhwp, hwpforge) draw from them alone, so a cell stored
too low or lines stored on top of one another are drawn so. This module computes
them from the text, the type size and the column width.

The advance of a character is the wider of two: its advance in Pretendard GOV (the
KRDS files the PDF embeds; a character they lack takes a full em, as the PDF's
Noto Sans CJK KR draws most of those) and the advance a reader that has no metrics
for the face gives it (a full em for East Asian wide characters, half an em for the
others). Hancom sets a space half an em wide. Advances are rounded up to Hancom's
layout unit (1/1800 inch). So a line set here fits its cell in every reader,
whether or not the machine has the font; a reader with the font draws it a little
shorter than the cell, never longer.

Lines break between words (어절), as the PDF does (``word-break: keep-all``); a word
longer than a line is broken between characters. Spaces at a line's end hang past
it, as in Hancom and the browser. All lengths are HWPUNIT (1/7200 inch).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from auditflow.errors import DomainError
from auditflow.reports.page import PAGE

LAYOUT_UNIT = 4  # Hancom lays lines out in 1/1800 inch
BASELINE = 0.85  # the baseline's place in a line, from its top, as Hancom writes it
ONE_SEGMENT = 0x60000  # lineseg flags: a line of one segment (its first and its last)
INDENTED = 0x100000  # the line takes the paragraph's indent (a hanging one: every line but the first)
MIN_LINE_WIDTH = 1440  # Hancom never records a cell line narrower than this
# A line may not start with these (kinsoku): closing marks stay with the word before them.
_NO_LINE_START = set(")]}>.,:;!?%」』】〉》’”·")
_WIDE = {"W", "F", "A"}


class FontsMissing(DomainError):
    code = "fonts_missing"
    status = 500


def font_files() -> dict[int, Path]:
    """The KRDS Pretendard GOV files by CSS weight; ``FontsMissing`` (Korean) if not installed."""
    files = {weight: PAGE.font.file(weight) for weight, _name in PAGE.font.files}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise FontsMissing(
            "보고서에 쓸 Pretendard GOV 글꼴이 없습니다. `make install`(npm ci)로 "
            f"krds-uiux를 설치하세요: {', '.join(missing)}"
        )
    return files


@dataclass(frozen=True)
class Face:
    units_per_em: int
    advances: dict[int, int]  # code point -> advance in font units


@lru_cache(maxsize=4)
def face(weight: int) -> Face:
    from fontTools.ttLib import TTFont

    font = TTFont(str(font_files()[weight]), lazy=True)
    try:
        metrics = font["hmtx"].metrics
        advances = {code: metrics[glyph][0] for code, glyph in font.getBestCmap().items()}
        return Face(font["head"].unitsPerEm, advances)
    finally:
        font.close()


def _weight(bold: bool) -> int:
    return 700 if bold else 400


def advance(char: str, size: int, bold: bool = False) -> int:
    """The room ``char`` takes on a line set ``size`` high (both HWPUNIT), as described above."""
    wide = unicodedata.east_asian_width(char) in _WIDE
    floor = size if wide else size / 2
    if char == " ":
        width = size / 2
    else:
        font = face(_weight(bold))
        own = font.advances.get(ord(char))
        width = max(floor, size if own is None else own * size / font.units_per_em)
    return math.ceil(width / LAYOUT_UNIT) * LAYOUT_UNIT


def drawn_width(text: str, size: int, bold: bool = False) -> int:
    """``text`` as Hancom draws it with the font installed: the face's own advances, a space
    half an em. For a hanging indent, which should fall where the text after the marker starts."""
    font = face(_weight(bold))
    total = 0.0
    for char in text:
        own = font.advances.get(ord(char))
        if char == " ":
            total += size / 2
        elif own is None:
            total += size
        else:
            total += own * size / font.units_per_em
    return math.ceil(total / LAYOUT_UNIT) * LAYOUT_UNIT


def line_starts(text: str, size: int, first: int, others: int, bold: bool = False) -> list[int]:
    """Where each line of ``text`` starts (indexes into it) when the first line is ``first`` wide
    and the others ``others`` (HWPUNIT). Greedy, between words; see the module's description."""
    widths = [advance(char, size, bold) for char in text]
    starts = [0]
    room = first
    used = 0  # the line's width up to the end of its last word
    pending = 0  # the spaces after that word: they count only if another word follows
    index = 0
    # The paragraph's leading spaces (an outline's indentation) take room on the first line.
    while index < len(text) and text[index] == " ":
        used += widths[index]
        index += 1
    while index < len(text):
        end = index
        while end < len(text) and text[end] != " ":
            end += 1
        word = sum(widths[index:end])
        if used + pending and used + pending + word > room:
            starts.append(index)  # the word starts the next line; the spaces before it hang
            room, used, pending = others, 0, 0
        if not used + pending and word > room:
            used, room = _break_word(text, widths, index, end, room, others, starts)
        else:
            used += pending + word
        spaces = end
        while spaces < len(text) and text[spaces] == " ":
            spaces += 1
        pending = sum(widths[end:spaces])
        index = spaces
    return starts


def _break_word(text: str, widths: list[int], start: int, end: int, room: int, others: int,
                starts: list[int]) -> tuple[int, int]:
    """Set a word too long for a line between characters, from the start of a line ``room``
    wide; every further line is ``others`` wide and its start goes to ``starts``. A closing
    mark never starts a line. Returns the width the word's last part takes on its line, and
    that line's room."""
    line_start, used = start, 0
    for index in range(start, end):
        if used + widths[index] > room and index > line_start:
            cut = index
            while cut > line_start + 1 and text[cut] in _NO_LINE_START:
                cut -= 1
            starts.append(cut)
            line_start, used, room = cut, sum(widths[cut:index]), others
        used += widths[index]
    return used, room


def utf16_offset(text: str, index: int) -> int:
    """A line's start as OWPML counts it: UTF-16 code units."""
    return len(text[:index].encode("utf-16-le")) // 2


def line_pitch(size: int, percent: int) -> int:
    """From one line's top to the next line's top, Hancom's way for a percentage line spacing:
    the extra space is counted in layout units from a quarter of the size, rounded."""
    extra = (size // 4) * (percent - 100) / 100
    units = int(abs(extra) + 0.5)
    return size + 4 * (units if extra >= 0 else -units)


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of a cell as the writer sets it."""

    text: str
    size: int  # type size, HWPUNIT (11 pt = 1100)
    bold: bool = False
    left: int = 0  # the paragraph's left margin
    indent: int = 0  # Hancom's 들여쓰기 (> 0, first line) or 내어쓰기 (< 0, the others)
    before: int = 0  # spacing above the paragraph
    percent: int = PAGE.line_spacing_percent


@dataclass(frozen=True)
class Segment:
    """One line of a paragraph: an ``hp:lineseg``."""

    textpos: int
    vertpos: int
    vertsize: int
    textheight: int
    baseline: int
    spacing: int
    horzpos: int
    horzsize: int
    flags: int

    def attributes(self) -> dict[str, str]:
        return {name: str(getattr(self, name)) for name in (
            "textpos", "vertpos", "vertsize", "textheight", "baseline", "spacing", "horzpos",
            "horzsize", "flags")}


@dataclass(frozen=True)
class CellLayout:
    paragraphs: tuple[tuple[Segment, ...], ...]
    height: int  # the text's height: from the first line's top to the last line's foot

    @property
    def lines(self) -> int:
        return sum(len(segments) for segments in self.paragraphs)


def lay_out_cell(paragraphs: Sequence[Paragraph], width: int) -> CellLayout:
    """The lines of a cell whose text area is ``width`` wide, from the top of that area down:
    each paragraph's spacing above it, then its lines one pitch apart."""
    laid: list[tuple[Segment, ...]] = []
    top = 0
    bottom = 0
    for number, paragraph in enumerate(paragraphs):
        if number:
            top += paragraph.before
        room = width - paragraph.left
        first = room - max(paragraph.indent, 0)
        others = room - max(-paragraph.indent, 0)
        starts = line_starts(paragraph.text, paragraph.size, first, others, paragraph.bold)
        pitch = line_pitch(paragraph.size, paragraph.percent)
        segments = []
        for line, start in enumerate(starts):
            indented = (paragraph.indent > 0 and line == 0) or (paragraph.indent < 0 and line > 0)
            segments.append(Segment(
                textpos=utf16_offset(paragraph.text, start),
                vertpos=top,
                vertsize=paragraph.size,
                textheight=paragraph.size,
                baseline=round(paragraph.size * BASELINE),
                spacing=pitch - paragraph.size,
                horzpos=paragraph.left,
                horzsize=max(room - room % LAYOUT_UNIT, MIN_LINE_WIDTH),
                flags=ONE_SEGMENT | (INDENTED if indented else 0),
            ))
            bottom = top + paragraph.size
            top += pitch
        laid.append(tuple(segments))
    return CellLayout(tuple(laid), bottom)
