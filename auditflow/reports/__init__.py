"""The summary engine and the report writers.

Every format of the council report is written by one module exposing
``write(report: content.Report, path: pathlib.Path, progress=None) -> None``
(``progress``: see ``reports.progress``). ``WRITERS`` names
that module per format; it is imported on first use, so importing the package
does not load WeasyPrint or the HWPX library, and a writer that is not there
yet is reported as unavailable instead of breaking the others.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from auditflow.errors import DomainError
from auditflow.reports.progress import Progress

if TYPE_CHECKING:
    from auditflow.reports.content import Report

# Format -> module with ``write(report, path)``; the order is the order of the download buttons.
WRITERS: dict[str, str] = {
    "pdf": "auditflow.reports.pdf",
    "hwpx": "auditflow.reports.hwpx",
    "xlsx": "auditflow.reports.xlsx",
    "html": "auditflow.reports.html",
    "csv": "auditflow.reports.csv_items",
}
FORMATS = tuple(WRITERS)

FORMAT_LABELS = {
    "pdf": "PDF",
    "hwpx": "한글(HWPX)",
    "xlsx": "엑셀(XLSX)",
    "html": "인쇄용 HTML",
    "csv": "CSV",
}

class Writer(Protocol):
    def __call__(self, report: Report, path: Path, progress: Progress | None = None) -> None: ...


class FormatUnavailable(DomainError):
    code = "format_unavailable"
    status = 404


def writer(fmt: str) -> Writer:
    """The ``write`` function of ``fmt``; ``FormatUnavailable`` if unknown or not installed."""
    module_name = WRITERS.get(fmt)
    if module_name is None:
        raise FormatUnavailable(f"알 수 없는 형식입니다: {fmt}")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise FormatUnavailable(f"{FORMAT_LABELS[fmt]} 형식은 아직 만들 수 없습니다.") from exc
    write: Writer | None = getattr(module, "write", None)
    if write is None:
        raise FormatUnavailable(f"{FORMAT_LABELS[fmt]} 형식은 아직 만들 수 없습니다.")
    return write


def available_formats() -> list[str]:
    """The formats whose writer can be loaded now, in button order."""
    found = []
    for fmt in FORMATS:
        try:
            writer(fmt)
        except FormatUnavailable:
            continue
        found.append(fmt)
    return found
