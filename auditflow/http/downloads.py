"""An evidence file as a download, the same for the page's link and the JSON API."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, send_file

from auditflow.models import AccessKind, Evidence
from auditflow.services.access_log import download_reason, record_access
from auditflow.storage import content_disposition
from auditflow.storage.transactional import file_store


def send_stored(key: str, **options: Any) -> Response:
    """The stored file of ``key`` as a response (``send_file``'s options), from the folder
    or streamed through the application from the object store -- never a link to the
    store itself, which would bypass the checks that came before. ``FileNotFoundError``
    when it is missing."""
    store = file_store()
    path = store.local_path(key)
    if path is not None:
        if not path.is_file():
            raise FileNotFoundError(key)
        return send_file(path, **options)
    size = store.size(key)
    response = send_file(store.open(key), **options)
    if response.status_code == 200:
        response.content_length = size
    return response


def send_evidence(evidence: Evidence) -> Response:
    """The stored bytes (404 when deleted or missing), never shown inline with our origin."""
    if evidence.deleted_at is not None:
        abort(404)
    if not file_store().exists(evidence.storage_key):
        current_app.logger.error("evidence %s: file %s missing", evidence.id, evidence.storage_key)
        abort(404)
    record_access(AccessKind.EVIDENCE_DOWNLOAD, reason=download_reason(),
                  target=f"evidence {evidence.id} {evidence.original_name} (item {evidence.recommendation_id})")
    try:
        response = send_stored(
            evidence.storage_key,
            mimetype=evidence.content_type,  # what the bytes are, as sniffed at upload
            as_attachment=True,
            download_name=evidence.original_name,
            etag=evidence.sha256,
            max_age=0,
        )
    except FileNotFoundError:  # removed in the meantime
        abort(404)
    response.headers["Content-Disposition"] = content_disposition(evidence.original_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Opened directly anyway (e.g. a PDF viewer tab): no script, no same-origin access.
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "private, no-cache"
    return response
