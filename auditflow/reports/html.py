"""The report as one standalone HTML document for printing; WeasyPrint makes the PDF from it.

The document carries its own stylesheet (templates/reports/document.css) so it
prints the same from a browser after download, without the application. The
stylesheet is rendered from ``reports.page.PAGE``, the page set-up the HWPX writer
uses too (A4, the public-document margins, Pretendard GOV in the same sizes, the
page number at the bottom centre); table headers repeat on every page and rows
are kept whole.

It is rendered with a Jinja environment of its own, not the web application's,
so the CLI and the issuing service produce the same bytes as a download.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from auditflow import dates
from auditflow.reports.content import LEADER_DOTS, Report
from auditflow.reports.page import PAGE
from auditflow.reports.progress import Progress, Steps

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(short=dates.short, local_day=lambda moment: dates.local(moment).date())
    return env


def render(report: Report, extra_css: str = "") -> str:
    """The document; ``extra_css`` is appended to its stylesheet (the PDF adds its fonts)."""
    template = _environment().get_template("reports/document.html")
    return template.render(report=report, extra_css=extra_css, leader=LEADER_DOTS, page=PAGE)


def write(report: Report, path: Path, progress: Progress | None = None) -> None:
    steps = Steps(progress, len(report.items))
    Path(path).write_text(render(report), encoding="utf-8")
    steps.finish()
