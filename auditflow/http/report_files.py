"""A report file made while the request waits: the same answer for the summary page's
download and the JSON API's."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Response

from auditflow.models import AccessKind
from auditflow.reports import Writer
from auditflow.reports.content import CONTENT_TYPES, Report
from auditflow.services.access_log import record_access
from auditflow.storage import content_disposition


def report_response(report: Report, write: Writer, fmt: str, *, target: str) -> Response:
    """``report`` written as ``fmt`` (by its ``write``), as a download named like the report;
    recorded in the access log as the download of ``target``."""
    with tempfile.TemporaryDirectory(prefix="auditflow-report-") as folder:
        path = Path(folder) / f"report.{fmt}"
        write(report, path)
        data = path.read_bytes()
    record_access(AccessKind.REPORT_DOWNLOAD, target=target)
    response = Response(data, content_type=CONTENT_TYPES[fmt])
    response.headers["Content-Disposition"] = content_disposition(report.file_name(fmt))
    response.headers["Cache-Control"] = "private, no-store"
    return response
