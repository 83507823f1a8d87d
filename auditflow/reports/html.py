"""The report as one standalone HTML document for printing; WeasyPrint makes the PDF from it.

The document carries its own stylesheet (templates/reports/document.css) so it
prints the same from a browser after download, without the application. The
stylesheet is rendered from ``reports.page.PAGE``, the page set-up the HWPX writer
uses too (A4, the public-document margins, Pretendard GOV in the same sizes, the
page number at the bottom centre); table headers repeat on every page and rows
are kept whole.

It is rendered with a Jinja environment of its own, not the web application's,
so the CLI and the issuing service produce the same bytes as a download.

The PDF renders the document in parts (``Part``: the head and 총괄, a run of
items, the 기한 변경 내역), each a document of its own, and asks for the texts
with their Korean words kept whole (``keep_words``): WeasyPrint ignores
``word-break: keep-all``, which browsers honour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from auditflow import dates
from auditflow.reports.content import LEADER_DOTS, Report, ReportItem, ReportSection
from auditflow.reports.page import PAGE
from auditflow.reports.pdf_parts import Part
from auditflow.reports.progress import Progress, Steps

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

WORD_JOINER = "\u2060"
# Hangul syllables and jamo. A line may break between any two of them (UAX #14), so a word
# like "마련하기" could end one line with "마련" and start the next with "하기"; a word
# joiner between the letters of a word leaves only the spaces as places to break. A word
# longer than its line still breaks (overflow-wrap: break-word).
_HANGUL = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3"
_INSIDE_WORD = re.compile(rf"(?<=[^\s])(?=[{_HANGUL}])|(?<=[{_HANGUL}])(?=[^\s])")


def keep_words(text: str) -> str:
    """``text`` with a word joiner (U+2060, drawn as nothing) inside each word with Hangul."""
    return _INSIDE_WORD.sub(WORD_JOINER, text)


def _keeping_words(value: Any) -> Any:
    if isinstance(value, str) and not isinstance(value, Markup):
        return keep_words(value)
    return value


@lru_cache(maxsize=2)
def _environment(words_kept: bool = False) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_keeping_words if words_kept else None,
    )
    env.globals.update(short=dates.short, local_day=lambda moment: dates.local(moment).date())
    return env


@dataclass(frozen=True)
class Piece:
    """What a part shows of one category: its items, and its heading if it starts there."""

    section: ReportSection
    items: tuple[ReportItem, ...]
    heading: bool
    first: int  # the index of its first item in ``Report.items``


def pieces(report: Report, part: Part) -> list[Piece]:
    start, stop = part.rows
    found, first = [], 0
    for section in report.sections:
        last = first + len(section.items)
        begin, end = max(start, first), min(stop, last)
        if begin < end:
            found.append(Piece(section, section.items[begin - first:end - first],
                               heading=begin == first, first=begin))
        first = last
    return found


def render(report: Report, extra_css: str = "", *, part: Part | None = None,
           for_pdf: bool = False) -> str:
    """The document (or ``part`` of it); ``extra_css`` is appended to its stylesheet (the
    PDF adds its fonts). ``for_pdf``: every text through ``keep_words``, and each item
    row marked with its index (``data-row``) for the PDF's parts to find their pages."""
    template = _environment(for_pdf).get_template("reports/document.html")
    part = part or Part.whole(report.total)
    return template.render(report=report, extra_css=Markup(extra_css), leader=LEADER_DOTS,
                           page=PAGE, part=part, pieces=pieces(report, part), for_pdf=for_pdf)


def stylesheet() -> str:
    """The document's stylesheet alone, as the PDF has it (its sheet of page numbers)."""
    return _environment().get_template("reports/document.css").render(page=PAGE, for_pdf=True)


def write(report: Report, path: Path, progress: Progress | None = None) -> None:
    steps = Steps(progress, len(report.items))
    Path(path).write_text(render(report), encoding="utf-8")
    steps.finish()
