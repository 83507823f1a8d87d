"""The per-file upload limit, enforced while Werkzeug parses the request body.

``MAX_CONTENT_LENGTH`` stays None (several files of up to MAX_UPLOAD_MB each may
come in one request), so without this an over-size file would first be written
whole to a temp file by the form parser, before any view runs (Flask-WTF's CSRF
check reads the form in ``before_request``). Here each file part stops at its
limit + 1 byte and the request is answered 413. The evidence service checks the
limit again while copying into storage, for callers outside a request.
"""

from __future__ import annotations

from typing import IO, Any

from flask import Request, current_app
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from auditflow.storage import FileTooLarge, StorageFull, clean_filename
from auditflow.storage.files import full_disk


class InsufficientStorage(HTTPException):
    """507: werkzeug has no class of its own for it."""

    code = 507
    description = StorageFull.message


class _LimitedFile:
    """A writable upload container that refuses to grow past ``limit`` bytes."""

    def __init__(self, inner: IO[bytes], limit: int, filename: str | None) -> None:
        self._inner = inner
        self._limit = limit
        self._filename = filename
        self._size = 0

    def write(self, data: bytes) -> int:
        self._size += len(data)
        if self._size > self._limit:
            self._inner.close()
            message = FileTooLarge(self._limit).message
            if self._filename:
                message = f"'{clean_filename(self._filename)}': {message}"
            raise RequestEntityTooLarge(description=message)
        try:
            return self._inner.write(data)
        except OSError as exc:  # the parser's temp file filled the disk
            if full_disk(exc):
                self._inner.close()
                raise InsufficientStorage() from exc
            raise

    def __iter__(self) -> Any:
        return iter(self._inner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class UploadLimitedRequest(Request):
    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None,
                         content_length: int | None = None) -> IO[bytes]:
        inner = super()._get_file_stream(total_content_length, content_type, filename,
                                         content_length)
        megabytes = current_app.config.get("MAX_UPLOAD_MB")
        if not megabytes:
            return inner
        return _LimitedFile(inner, int(megabytes) * 1024 * 1024, filename)  # type: ignore[return-value]
