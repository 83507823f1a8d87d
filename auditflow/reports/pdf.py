"""The report as PDF: WeasyPrint renders the printable HTML document.

Every character is drawn from a font that has it: Pretendard GOV (the KRDS
typeface, from the krds-uiux npm package, embedded through @font-face) first,
then Noto Sans CJK KR (Debian fonts-noto-cjk, found by fontconfig) for the
symbols the Pretendard GOV subset lacks (△ ㎡ 市 …). Both families are named in
the document's stylesheet, so nothing falls through to an arbitrary system font;
tests/test_report_formats.py checks the seed's report.

The file is an archival one, the same bytes for the same report on any day and
machine: PDF/A-3b in Korean (``lang="ko"``), dated by the edition
(``Report.document_day``), its identifier computed from its content, the fonts
decoded from their WOFF files with the fonts' own timestamps (WeasyPrint would
stamp them with the moment of decoding). An issued edition's (``Report.issued_on``)
is also tagged and identified as PDF/UA-1; a download for reading is not (the
structure costs about a third more time to write and join). Korean words are kept
whole at line ends (``html.keep_words``).

A report of more than ``pdf_parts.SINGLE_ROWS`` items is rendered in parts on a
process pool (forkserver: the pool's processes start from a clean process that has
imported WeasyPrint, never from a copy of a threaded web server) and joined
(``reports.pdf_parts``, ``reports.pdf_join``): every page is the page a single
rendering gives, and each process holds one part's pages at a time. The page
numbers are drawn on the joined pages from sheets of numbers, so they run on
across the parts.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import io
import multiprocessing
import os
import tempfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from auditflow.errors import DomainError
from auditflow.reports import html, page, pdf_join, pdf_parts
from auditflow.reports.content import Report
from auditflow.reports.page import PAGE
from auditflow.reports.progress import Progress, Steps

REPO = page.REPO
PRIMARY_FAMILY = PAGE.font.family
FALLBACK_FAMILY = PAGE.font.fallback  # Debian: fonts-noto-cjk
VARIANT = "pdf/a-3b"
# The parts are drawn without the page number; the sheet of numbers only with it.
NO_PAGE_NUMBER = "@page { @bottom-center { content: none; } }"
PART_OPTIONS: dict[str, Any] = {"pdf_variant": VARIANT}
TAGGED_PART_OPTIONS: dict[str, Any] = {**PART_OPTIONS, "pdf_tags": True}
SHEET_OPTIONS: dict[str, Any] = {"pdf_variant": VARIANT}
SHEETS, SHEET_PAGES = 2, 60  # the page numbers in two sheets, rendered at once, from 120 pages


class FontsMissing(DomainError):
    code = "fonts_missing"
    status = 500


def primary_font_files() -> dict[int, Path]:
    files = {weight: PAGE.font.file(weight) for weight, _name in PAGE.font.files}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise FontsMissing(
            "PDF에 넣을 Pretendard GOV 글꼴이 없습니다. `make install`(npm ci)로 "
            f"krds-uiux를 설치하세요: {', '.join(missing)}"
        )
    return files


@lru_cache(maxsize=8)
def _decoded(woff: Path) -> Path:
    """The WOFF font as a TrueType file that keeps the font's own timestamp (head.modified).

    Kept in the temporary folder by content, written whole or not at all.
    """
    from fontTools.ttLib import TTFont

    data = woff.read_bytes()
    folder = Path(tempfile.gettempdir()) / f"auditflow-fonts-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    target = folder / f"{hashlib.sha256(data).hexdigest()[:24]}.ttf"
    if not target.is_file():
        font = TTFont(io.BytesIO(data), recalcTimestamp=False)
        font.flavor = None
        fd, name = tempfile.mkstemp(dir=folder, suffix=".part")
        with os.fdopen(fd, "wb") as stream:
            font.save(stream)
        os.replace(name, target)
    return target


def font_css() -> str:
    rules = []
    for weight, path in primary_font_files().items():
        rules.append(
            "@font-face { "
            f'font-family: "{PRIMARY_FAMILY}"; font-weight: {weight}; font-style: normal; '
            f'src: url("{_decoded(path).as_uri()}") format("truetype"); }}'
        )
    # The PDF names exactly these two families; browsers keep the document's own list.
    families = f'"{PRIMARY_FAMILY}", "{FALLBACK_FAMILY}"'
    rules.append(f"body {{ font-family: {families}; }}")
    rules.append(f"@page {{ @bottom-center {{ font-family: {families}; }} }}")
    return "\n".join(rules)


def render(report: Report, *, chunk_rows: int | None = None, overlap_rows: int | None = None,
           single_rows: int | None = None, tagged: bool | None = None) -> bytes:
    """The report as PDF bytes (the sizes and ``tagged``: as ``write_to``)."""
    output = io.BytesIO()
    write_to(report, output, chunk_rows=chunk_rows, overlap_rows=overlap_rows,
             single_rows=single_rows, tagged=tagged)
    return output.getvalue()


def write(report: Report, path: Path, progress: Progress | None = None) -> None:
    steps = Steps(progress, len(report.items))
    with Path(path).open("wb") as output:
        write_to(report, output)
    steps.finish()


def write_to(report: Report, output: BinaryIO, *, chunk_rows: int | None = None,
             overlap_rows: int | None = None, single_rows: int | None = None,
             workers: int | None = None, tagged: bool | None = None,
             stats: list[pdf_parts.Rendered] | None = None) -> None:
    """Write the report as PDF to ``output``. ``chunk_rows``, ``overlap_rows``,
    ``single_rows``: the items of a part, the items a part renders past its end, the
    largest report rendered at once (``pdf_parts``' sizes unless given: tests give small
    ones); ``workers``: processes (default: the processors this process may use);
    ``tagged``: with the structure tree and PDF/UA-1 (default: an issued edition is);
    ``stats``: receives every rendering of a part, again ones included (without their
    PDF: the benchmark reads their times)."""
    fonts = font_css()
    tagged = report.issued_on is not None if tagged is None else tagged
    due = report.include_due_changes and bool(report.due_changes)
    parts = pdf_parts.plan(
        report.total, due_changes=due,
        chunk_rows=chunk_rows or pdf_parts.CHUNK_ROWS,
        overlap_rows=pdf_parts.OVERLAP_ROWS if overlap_rows is None else overlap_rows,
        single_rows=pdf_parts.SINGLE_ROWS if single_rows is None else single_rows)
    with _Renderer(len(parts), workers, stats, tagged) as renderer:
        rendered, takes = _pages(report, fonts, parts, renderer)
        count = sum(take.stop - take.first for take in takes)
        numbers = renderer.sheets(count, fonts)
    pages = [pdf_join.Pages(rendered[take.part].pdf, take.first, take.stop) for take in takes]
    del rendered
    pdf_join.join(pages, numbers, metadata(report, tagged), output)


@dataclasses.dataclass
class _Link:
    """One rendering in the chain of parts; ``bridge``: it was put between two parts."""

    part: pdf_parts.Part
    rendered: pdf_parts.Rendered
    bridge: bool = False


MAX_ROUNDS = 6


def _pages(report: Report, fonts: str, parts: list[pdf_parts.Part],
           renderer: _Renderer) -> tuple[list[pdf_parts.Rendered], list[pdf_parts.Take]]:
    """Every part rendered, with bridges where two do not meet, and the pages to take."""
    chain = [_Link(part, done) for part, done in
             zip(parts, renderer.all([_document(report, part, fonts) for part in parts]),
                 strict=True)]
    for _round in range(MAX_ROUNDS):
        takes = pdf_parts.stitch([link.rendered.starts for link in chain])
        if not isinstance(takes, pdf_parts.Unmet):
            return [link.rendered for link in chain], takes
        failing = pdf_parts.unmet([link.rendered.starts for link in chain]) or [takes.part]
        wanted: list[tuple[int, pdf_parts.Part, bool]] = []  # (index, part, replaces)
        for index in failing:
            before, after = chain[index - 1], chain[index]
            if before.bridge:  # too short: twice as long, from the same page start
                rows = 2 * (before.part.rows[1] - before.part.rows[0])
                anchor = chain[index - 2].rendered.starts
                longer = pdf_parts.bridge(anchor, after.part, rows)
                if longer is None:
                    break
                wanted.append((index - 1, longer, True))
            else:
                new = pdf_parts.bridge(before.rendered.starts, after.part, pdf_parts.BRIDGE_ROWS)
                if new is None:
                    break
                wanted.append((index, new, False))
        else:
            done = renderer.all([_document(report, part, fonts) for _i, part, _r in wanted])
            for (index, part, replaces), result in sorted(
                    zip(wanted, done, strict=True), key=lambda pair: -pair[0][0]):
                link = _Link(part, result, bridge=True)
                if replaces:
                    chain[index] = link
                else:
                    chain.insert(index, link)
                following = chain[index + 1] if index + 1 < len(chain) else None
                if following is not None and part.rows[1] >= following.part.rows[1]:
                    # the bridge reached the end of the next part: it takes its place
                    link.bridge = False
                    del chain[index + 1]
            continue
        break
    whole = pdf_parts.Part.whole(report.total)
    [single] = renderer.all([_document(report, whole, fonts)])
    return [single], [pdf_parts.Take(0, 0, len(single.starts))]


def metadata(report: Report, tagged: bool) -> pdf_join.Metadata:
    from pypdf import __version__ as pypdf_version
    from weasyprint import __version__ as weasyprint_version

    return pdf_join.Metadata(
        title=f"{report.title}({report.reference_label})",
        author=report.organisation,
        subject=f"{report.organisation} {report.title}, {report.reference_label}",
        day=report.document_day,
        producer=f"WeasyPrint {weasyprint_version}; pypdf {pypdf_version}",
        tagged=tagged,
    )


def _document(report: Report, part: pdf_parts.Part, fonts: str) -> str:
    return html.render(report, extra_css=f"{fonts}\n{NO_PAGE_NUMBER}", part=part, for_pdf=True)


def _numbers_document(first: int, count: int, fonts: str) -> str:
    """``count`` empty pages of the report's page style, numbered from ``first``: only
    "- n -" on each, with no background (it is drawn over the page)."""
    pages = "<div></div>" * count
    return (f'<!doctype html><html lang="ko"><head><meta charset="utf-8"><style>\n'
            f"{html.stylesheet()}\n{fonts}\nhtml, body {{ background: none; }}\n"
            f"@page :first {{ counter-reset: page {first}; }}\n"
            "div + div { break-before: page; }\n</style></head>"
            f"<body>{pages}</body></html>")


class _Renderer:
    """Renders parts here (one part) or on a pool of processes (several)."""

    def __init__(self, parts: int, workers: int | None,
                 stats: list[pdf_parts.Rendered] | None, tagged: bool) -> None:
        self.stats = stats
        self.options = TAGGED_PART_OPTIONS if tagged else PART_OPTIONS
        available = len(os.sched_getaffinity(0))
        self.workers = max(1, min(workers or available, parts))
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None
        # A daemonic process (a multiprocessing.Pool's worker) may start none: render here.
        if parts > 1 and self.workers > 1 and not multiprocessing.current_process().daemon:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["auditflow.reports.pdf_parts", "weasyprint"])
            self.pool = concurrent.futures.ProcessPoolExecutor(self.workers, mp_context=context)

    def __enter__(self) -> _Renderer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def all(self, documents: Sequence[str]) -> list[pdf_parts.Rendered]:
        base = str(REPO)
        if self.pool is None:
            done = [pdf_parts.render_part(document, base, self.options) for document in documents]
        else:
            futures = [self.pool.submit(pdf_parts.render_part, document, base, self.options)
                       for document in documents]
            done = [future.result() for future in futures]
        if self.stats is not None:
            self.stats.extend(dataclasses.replace(item, pdf=b"") for item in done)
        return done

    def sheets(self, count: int, fonts: str) -> list[bytes]:
        """The page numbers 1 to ``count``, in ``SHEETS`` sheets at most, of ``SHEET_PAGES``
        pages at least (the count alone decides: the file does not depend on the machine)."""
        pieces = max(1, min(SHEETS, count // SHEET_PAGES))
        bounds = [round(index * count / pieces) for index in range(pieces + 1)]
        documents = [_numbers_document(bounds[index] + 1, bounds[index + 1] - bounds[index], fonts)
                     for index in range(pieces)]
        if self.pool is None:
            return [pdf_parts.render_sheet(document, str(REPO), SHEET_OPTIONS)
                    for document in documents]
        futures = [self.pool.submit(pdf_parts.render_sheet, document, str(REPO), SHEET_OPTIONS)
                   for document in documents]
        return [future.result() for future in futures]

