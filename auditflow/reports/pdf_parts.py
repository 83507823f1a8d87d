"""The PDF rendered in parts, several at once, with the pages of one rendering.

WeasyPrint lays a document out page after page in one process, and its memory
holds every page until the file is written. The report is cut instead into runs
of items (``plan``), each rendered as a document of its own on a process pool,
and the pages are put together again (``reports.pdf_join``).

A part cannot know where the pages before it ended, so it starts on a fresh page
a few items early and renders a few items past its end (``OVERLAP_ROWS``). The
item rows are kept whole, so from a page that starts with an item row, WeasyPrint
fills the pages the same way whatever came before: once a part's page starts with
the same row as a page of the part before it (``PageStart``: the row, and whether
the category's heading is on the page), both renderings are the one rendering
from there on (``stitch``). The pages before that point in the later part and
after it in the earlier one are dropped. The part before is taken to that page
only after it was itself taken over by such a match (or starts the document), so
every page kept is a page of the whole document rendered at once. When two parts
meet no common page start (two paginations of the same rows from different rows fall
into step after a few pages, or after many: it depends on the rows' heights), a
bridge is rendered between them (``bridge``): from a page start the earlier part
found, so it meets that part on its second page, and long enough to meet the later
one; a bridge that is not is rendered again twice as long, and one that reaches the
end of the later part takes its place.

What a part is made of depends on the report alone (never on the number of
processors), so the same report gives the same file on any machine.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

CHUNK_ROWS = 500  # items per part at most: about 130 pages, some 80 MB of a process's memory
OVERLAP_ROWS = 40  # items a part renders past its end, for the next part to meet it
BRIDGE_ROWS = 48  # the items of a first bridge between two parts that do not meet
SINGLE_ROWS = 200  # up to this many items the document is rendered at once, in this process
PAIRS = 2  # the parts come in twos: as many as the processes of a two-core machine


@dataclass(frozen=True)
class Part:
    """A slice of the document: the head and 총괄, the items ``rows`` (indexes into
    ``Report.items``, start inclusive, stop exclusive) and the 기한 변경 내역.
    (Here, not in ``reports.html``, so that the rendering processes import nothing but
    WeasyPrint and this module.)"""

    head: bool
    rows: tuple[int, int]
    due_changes: bool

    @classmethod
    def whole(cls, total: int) -> Part:
        return cls(head=True, rows=(0, total), due_changes=True)


@dataclass(frozen=True)
class PageStart:
    """The item row a page starts with, and whether its category's heading is above it."""

    row: int
    heading: bool


@dataclass(frozen=True)
class Rendered:
    """A part as WeasyPrint wrote it: the PDF, and where each of its pages starts
    (None: the page goes on with an item begun on the page before, or holds no item)."""

    pdf: bytes
    starts: tuple[PageStart | None, ...]
    cpu_seconds: float = 0.0  # what rendering it took the process (for the benchmark)
    peak_rss_mib: float = 0.0  # the process's peak memory after it


@dataclass(frozen=True)
class Take:
    """Pages ``first`` to ``stop`` (exclusive) of part ``part``."""

    part: int
    first: int
    stop: int


def plan(total: int, *, due_changes: bool, chunk_rows: int = CHUNK_ROWS,
         overlap_rows: int = OVERLAP_ROWS, single_rows: int = SINGLE_ROWS) -> list[Part]:
    """The parts of a report of ``total`` items, in order.

    The first part holds the head and 총괄, the last one the 기한 변경 내역 (it starts on a
    page of its own). Each part but the last goes ``overlap_rows`` past the start of the next.
    The parts are of one size (their overlap included), about ``chunk_rows`` at most, an
    even number of them; the overlap is half a part at most.
    """
    if total <= single_rows:
        return [Part(head=True, rows=(0, total), due_changes=due_changes)]
    count = PAIRS * math.ceil(total / (PAIRS * chunk_rows))
    overlap_rows = min(overlap_rows, chunk_rows // 2)
    # Each part renders as many items, its overlap included: the parts take as long.
    bounds = [round(index * (total - overlap_rows) / count) for index in range(count)] + [total]
    parts = []
    for index in range(count):
        last = index == count - 1
        stop = total if last else min(total, bounds[index + 1] + overlap_rows)
        parts.append(Part(head=index == 0, rows=(bounds[index], stop),
                          due_changes=due_changes and last))
    return parts


@dataclass(frozen=True)
class Unmet:
    """Part ``part`` meets no page start of the part before it, which renders the whole
    document's pages from its page ``taken_from`` on."""

    part: int
    taken_from: int


def meeting(previous: Sequence[PageStart | None], taken_from: int,
            following: Sequence[PageStart | None]) -> tuple[int, int] | None:
    """The first page of ``following`` (its second page or later: its first is a fresh
    start) that starts as a page of ``previous`` at or after ``taken_from``: (page in
    previous, page in following), or None."""
    known = {start: index for index, start in enumerate(previous)
             if index >= taken_from and start is not None}
    for index in range(1, len(following)):
        start = following[index]
        if start is not None and start in known:
            return known[start], index
    return None


def stitch(parts: Sequence[Sequence[PageStart | None]]) -> list[Take] | Unmet:
    """The pages to take from each rendered part, in order; or the first part that meets
    no page start of the part before it."""
    takes: list[Take] = []
    taken_from = 0
    for index in range(1, len(parts)):
        met = meeting(parts[index - 1], taken_from, parts[index])
        if met is None:
            return Unmet(index, taken_from)
        takes.append(Take(index - 1, taken_from, met[0]))
        taken_from = met[1]
    takes.append(Take(len(parts) - 1, taken_from, len(parts[-1])))
    return takes


def unmet(parts: Sequence[Sequence[PageStart | None]]) -> list[int]:
    """Every part that meets no page start of the part before it (each pair on its own)."""
    return [index for index in range(1, len(parts))
            if meeting(parts[index - 1], 0, parts[index]) is None]


def bridge(previous: Sequence[PageStart | None], following: Part, rows: int) -> Part | None:
    """A part to put between a part and the ``following`` one that it does not meet: from
    the latest page start of the part before that is followed by another page start (the
    bridge meets it on its second page), ``rows`` items on (to the end of ``following``
    at most, and then the bridge takes its place). None if the part before has no such
    page starts."""
    for index in range(len(previous) - 2, -1, -1):
        here, after = previous[index], previous[index + 1]
        if here is not None and after is not None:
            stop = min(following.rows[1], here.row + rows)
            return Part(head=False, rows=(here.row, stop),
                        due_changes=following.due_changes and stop == following.rows[1])
    return None


# --- in the rendering process --------------------------------------------------------------------


def keep_font_timestamps() -> None:
    """Font subsets that keep their font's own timestamp, whichever subsetter WeasyPrint uses.

    Without HarfBuzz-Subset (libharfbuzz-subset) WeasyPrint subsets the fonts with fontTools,
    which stamps each subset's ``head.modified`` with the moment it is saved (or
    ``SOURCE_DATE_EPOCH``): two renderings of the same report, in one process or two, then
    differ in their fonts alone, and an issued edition could not be made again
    (``services.verification``). The subsets keep the timestamp of the font they come from,
    as the decoded fonts do (``pdf._decoded``) and as HarfBuzz's subsets do.
    """
    from fontTools.ttLib import TTFont
    from weasyprint.pdf import fonts

    if not isinstance(fonts.TTFont, functools.partial):
        fonts.TTFont = functools.partial(TTFont, recalcTimestamp=False)


def render_part(document: str, base_url: str, options: dict[str, Any]) -> Rendered:
    """One part, laid out and written by WeasyPrint, with its page starts."""
    import resource
    import time

    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    keep_font_timestamps()

    began = time.process_time()
    laid_out = HTML(string=document, base_url=base_url).render(font_config=FontConfiguration())
    starts = page_starts(laid_out.pages)
    data: bytes = laid_out.write_pdf(**options)
    del laid_out
    return Rendered(data, starts, time.process_time() - began,
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def render_sheet(document: str, base_url: str, options: dict[str, Any]) -> bytes:
    """The sheet of page numbers (``reports.pdf``): a document of empty pages."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    keep_font_timestamps()
    data: bytes = HTML(string=document, base_url=base_url).write_pdf(
        font_config=FontConfiguration(), **options)
    return data


def page_starts(pages: Sequence[Any]) -> tuple[PageStart | None, ...]:
    starts: list[PageStart | None] = []
    last_row: int | None = None
    for page in pages:
        rows, heading = _rows_and_heading(page._page_box)
        if rows and rows[0] != last_row:
            starts.append(PageStart(rows[0], heading))
        else:
            starts.append(None)
        if rows:
            last_row = rows[-1]
    return tuple(starts)


def _rows_and_heading(page_box: Any) -> tuple[list[int], bool]:
    """The item rows (their ``data-row``) on a page in order, and whether a category
    heading comes before the first of them."""
    from weasyprint.formatting_structure import boxes

    rows: list[int] = []
    heading = False
    for box in _walk(page_box):
        if isinstance(box, boxes.TableRowBox):
            row = box.element.get("data-row") if box.element is not None else None
            if row is not None and (not rows or rows[-1] != int(row)):
                rows.append(int(row))
        elif not rows and box.element_tag == "h2":
            heading = True
    return rows, heading


def _walk(box: Any) -> Iterator[Any]:
    from weasyprint.formatting_structure import boxes

    stack = [box]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, (boxes.TableRowBox, boxes.LineBox)):
            continue
        children = getattr(current, "children", None)
        if children:
            stack.extend(reversed(children))
