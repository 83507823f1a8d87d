"""One error type for every refused operation: a stable code and a Korean message.

The web layer shows ``message``; the CLI prints it with ``code``; the JSON API
returns both. ``status`` is the HTTP status that fits.
"""

from __future__ import annotations


class DomainError(Exception):
    code: str = "invalid"
    message: str = "요청을 처리할 수 없습니다."
    status: int = 400
    field: str | None = None  # the input it is about, when it is about one (the API names it)

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 status: int | None = None, field: str | None = None) -> None:
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if field is not None:
            self.field = field
        super().__init__(self.message)

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class NotFound(DomainError):
    code = "not_found"
    message = "찾을 수 없습니다."
    status = 404


class Forbidden(DomainError):
    code = "forbidden"
    message = "권한이 없습니다."
    status = 403
