"""An evidence file as a download, the same for the page's link and the JSON API."""

from __future__ import annotations

from flask import Response, abort, current_app, send_file

from auditflow.models import AccessKind, Evidence
from auditflow.services.access_log import download_reason, record_access
from auditflow.storage import content_disposition
from auditflow.storage.transactional import file_store


def send_evidence(evidence: Evidence) -> Response:
    """The stored bytes (404 when deleted or missing), never shown inline with our origin."""
    if evidence.deleted_at is not None:
        abort(404)
    path = file_store().path(evidence.storage_key)
    if not path.is_file():
        current_app.logger.error("evidence %s: file %s missing", evidence.id, evidence.storage_key)
        abort(404)
    record_access(AccessKind.EVIDENCE_DOWNLOAD, reason=download_reason(),
                  target=f"evidence {evidence.id} {evidence.original_name} (item {evidence.recommendation_id})")
    response = send_file(
        path,
        mimetype=evidence.content_type,  # what the bytes are, as sniffed at upload
        as_attachment=True,
        download_name=evidence.original_name,
        etag=evidence.sha256,
        max_age=0,
    )
    response.headers["Content-Disposition"] = content_disposition(evidence.original_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Opened directly anyway (e.g. a PDF viewer tab): no script, no same-origin access.
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "private, no-cache"
    return response
