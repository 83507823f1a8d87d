"""Korean error pages, and RFC 9457 problem details (``application/problem+json``) under /api.

No stack trace ever reaches a user: unexpected exceptions are logged and
answered with a plain 500 page. A ``DomainError`` keeps its own status and
Korean message; on a form post that named its page (``return_to``) the user is
sent back there with the message. The request's work has been rolled back
before any of these answers (``auditflow.http.transaction.abandon``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import (
    Flask,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
)
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from auditflow.errors import DomainError
from auditflow.http.navigation import return_path

TITLES = {
    400: "잘못된 요청",
    401: "로그인 필요",
    403: "권한 없음",
    404: "찾을 수 없음",
    405: "허용되지 않는 요청",
    409: "처리할 수 없음",
    413: "파일이 너무 큼",
    415: "지원하지 않는 형식",
    422: "입력값 오류",
    429: "요청이 너무 많음",
    500: "일시적인 오류",
    507: "저장 공간 부족",
}

MESSAGES = {
    400: "요청을 처리할 수 없습니다. 입력한 내용을 확인한 뒤 다시 시도하세요.",
    401: "로그인이 필요합니다.",
    403: "이 작업을 할 권한이 없습니다.",
    404: "요청하신 페이지나 항목을 찾을 수 없습니다. 주소를 확인하세요.",
    405: "이 주소에서는 허용되지 않는 방식의 요청입니다.",
    409: "지금은 이 작업을 할 수 없습니다.",
    413: "파일이 너무 큽니다.",
    415: "지원하지 않는 형식의 요청입니다. JSON(application/json)으로 보내세요.",
    422: "입력값이 올바르지 않습니다.",
    429: "요청이 너무 많습니다. 잠시 후 다시 시도하세요.",
    500: "일시적인 오류가 발생했습니다. 잠시 후 다시 시도하세요. 문제가 계속되면 관리자에게 알려 주세요.",
    507: "저장 공간이 부족하여 처리하지 못했습니다. 아무것도 저장되지 않았습니다. 관리자에게 알려 주세요.",
}

CODES = {
    400: "bad_request",
    401: "login_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "server_error",
    507: "storage_full",
}

CSRF_MESSAGE = "보안 토큰이 만료되었거나 올바르지 않습니다. 페이지를 새로 고친 뒤 다시 시도하세요."


def wants_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def return_to(url: str) -> None:
    """Name the page a refused form post goes back to (with the refusal flashed)."""
    g.return_to = url


def json_too_large_message() -> str:
    return (f"요청 본문이 너무 큽니다. JSON 본문은 {current_app.config['MAX_JSON_KB']}KB까지 "
            "보낼 수 있습니다.")


def _message_for(status: int, exc: HTTPException | None = None) -> str:
    if status == 413 and wants_json() and request.mimetype == "application/json":
        return json_too_large_message()
    if status == 429:
        return MESSAGES[429]
    if status == 413 and exc is not None and exc.description != type(exc).description:
        return str(exc.description)  # our own words: which file, or which limit
    if status == 413:
        limit = current_app.config.get("MAX_UPLOAD_MB")
        if limit:
            return f"파일이 너무 큽니다. 파일 하나에 {limit}MB까지 올릴 수 있습니다."
    if exc is not None and exc.description and exc.description != type(exc).description:
        # abort(400, "날짜는 …"): our own Korean words, not werkzeug's English default.
        return str(exc.description)
    return MESSAGES.get(status, MESSAGES[500 if status >= 500 else 400])


def problem(status: int, message: str, code: str, **extra: Any) -> Response:
    """RFC 9457 problem details: type, title, status, detail (Korean), and our stable ``code``."""
    body = {"type": f"urn:auditflow:problem:{code}",
            "title": TITLES.get(status, TITLES[500 if status >= 500 else 400]),
            "status": status, "detail": message, "code": code, **extra}
    if g.get("request_id"):  # the number to quote when asking about it (http.telemetry)
        body["request_id"] = g.request_id
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/problem+json")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="auditflow"'
    return response


def error_response(status: int, message: str, code: str, *, back: str | None = None,
                   **extra: Any) -> Any:
    """The error as problem details under /api, else as a Korean page (``back``: a link to
    the page left)."""
    if wants_json():
        return problem(status, message, code, **extra)
    try:
        body = render_template(
            "errors/error.html",
            status=status,
            title=TITLES.get(status, TITLES[500 if status >= 500 else 400]),
            message=message,
            back=back,
            request_id=g.get("request_id"),
        )
    except Exception:  # the error page itself failed: still no trace, still Korean
        current_app.logger.exception("error page failed to render")
        # (A request whose Host is not trusted cannot build any link: the plain page, then.)
        title = TITLES.get(status, TITLES[500 if status >= 500 else 400])
        body = (f"<!doctype html><html lang=\"ko\"><title>{escape(title)}</title>"
                f"<h1>{escape(title)}</h1><p>{escape(message)}</p>"
                f"<p>요청 번호: {escape(g.get('request_id') or '-')}</p></html>")
    return Response(body, status=status, mimetype="text/html")


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        # Back to the form's page: it gets a fresh token, and the text being written
        # there is still in the browser (app.js keeps drafts), so nothing typed is lost.
        return error_response(400, CSRF_MESSAGE, "csrf_failed", back=return_path())

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        status = exc.code or 500
        if status < 400:  # a RequestRedirect and friends are not errors
            return exc
        if status == 422 and wants_json():
            return _validation_problem(exc)
        response = error_response(status, _message_for(status, exc), CODES.get(status, "error"))
        if status == 429 and exc.get_response() is not None:
            for name, value in exc.get_response().headers.items():
                if name.lower().startswith(("retry-after", "x-ratelimit")):
                    response = current_app.make_response(response)
                    response.headers[name] = value
        if status == 405 and isinstance(exc.get_response(), Response):
            allow = exc.get_response().headers.get("Allow")
            if allow:
                response = current_app.make_response(response)
                response.headers["Allow"] = allow
        return response

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Any:
        target = g.get("return_to")
        # A business refusal (conflict, wrong state, missing reason) goes back to the
        # item with its message; a permission refusal, or the server's own trouble (507,
        # the storage is full), answers with its own status.
        if (target and request.method == "POST" and not wants_json()
                and exc.status not in (403, 404) and exc.status < 500):
            flash(exc.message, "error")
            return redirect(target, code=303)
        extra = {"field": exc.field} if exc.field else {}
        return error_response(exc.status, exc.message, exc.code, **extra)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        current_app.logger.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, MESSAGES[500], CODES[500])


# marshmallow's English messages, said in Korean (the API's 422 names each field it refuses).
_FIELD_MESSAGES = (
    (re.compile(r"^Missing data for required field\.$"), "반드시 보내야 하는 항목입니다."),
    (re.compile(r"^Unknown field\.$"), "알 수 없는 항목입니다."),
    (re.compile(r"^Not a valid integer\.$"), "정수여야 합니다."),
    (re.compile(r"^Not a valid string\.$"), "문자열이어야 합니다."),
    (re.compile(r"^Not a valid boolean\.$"), "true 또는 false여야 합니다."),
    (re.compile(r"^Not a valid date\.$"), "날짜(YYYY-MM-DD)여야 합니다."),
    (re.compile(r"^Field may not be null\.$"), "비워 둘 수 없습니다(null)."),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), "{0}자 이하로 보내세요."),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), "{0}자 이상으로 보내세요."),
    (re.compile(r"^Must be one of: (.*)\.$"), "다음 중 하나여야 합니다: {0}."),
    (re.compile(r"^Must be greater than or equal to (\S+)"), "{0} 이상이어야 합니다."),
    (re.compile(r"^Must be less than or equal to (\S+)"), "{0} 이하여야 합니다."),
    (re.compile(r"^Invalid input type\.$"), "형식이 올바르지 않습니다."),
)


def korean_field_message(message: str) -> str:
    for pattern, korean in _FIELD_MESSAGES:
        found = pattern.match(message)
        if found:
            return korean.format(*found.groups())
    return message if re.search("[가-힣]", message) else "올바른 값이 아닙니다."


def _flatten(messages: Any, path: str = "") -> dict[str, list[str]]:
    if isinstance(messages, dict):
        out: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = f"{path}.{key}" if path else str(key)
            out.update(_flatten(value, name))
        return out
    items = messages if isinstance(messages, list) else [messages]
    if items and all(isinstance(item, str) for item in items):
        return {path or "_schema": [korean_field_message(item) for item in items]}
    out = {}
    for index, item in enumerate(items):
        out.update(_flatten(item, f"{path}.{index}" if path else str(index)))
    return out


def _validation_problem(exc: HTTPException) -> Response:
    """webargs' 422 (``exc.data["messages"]`` by location): every refused field, in Korean."""
    data = getattr(exc, "data", None) or {}
    by_location = data.get("messages") or {}
    errors: dict[str, list[str]] = {}
    for location, messages in by_location.items():
        for name, texts in _flatten(messages).items():
            key = name if location in ("json", "form", "files") else f"{location}.{name}"
            errors[key] = texts
    if not errors:
        return problem(422, MESSAGES[422], CODES[422])
    field, texts = next(iter(errors.items()))
    detail = f"입력값이 올바르지 않습니다. {field}: {texts[0]}"
    return problem(422, detail, CODES[422], field=field, errors=errors)
