"""Request bodies that cannot succeed are refused before they are read.

``MAX_CONTENT_LENGTH`` bounds every body (config.py), but a body is parsed, and its
files spooled to the temp folder, before any view runs (Flask-WTF's CSRF check reads
the form). A state-changing request that no bearer token authenticated, from a browser
session that is not signed in or holds no form token, can only be a sign-in or a form
that will be refused: its body may be at most ``MAX_ANONYMOUS_BODY_KB``. A longer
declared length is answered 413 at once, and a body without a length stops at the
limit while it is read, so nothing larger reaches the disk.
"""

from __future__ import annotations

from flask import current_app, g, request, session
from werkzeug.exceptions import RequestEntityTooLarge

BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Flask-WTF keeps the session's form token under this key (WTF_CSRF_FIELD_NAME's default).
FORM_TOKEN_KEY = "csrf_token"


def may_succeed() -> bool:
    """A bearer token authenticated the request, or its session is signed in and holds
    the form token the body's token is checked against."""
    if g.get("api_token") is not None:  # http.tokens authenticated it, just before
        return True
    return "_user_id" in session and FORM_TOKEN_KEY in session


def limit_body() -> None:
    if request.method not in BODY_METHODS or may_succeed():
        return
    limit = int(current_app.config["MAX_ANONYMOUS_BODY_KB"]) * 1024
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge(description=too_large_message())
    if request.max_content_length is None or request.max_content_length > limit:
        request.max_content_length = limit


def too_large_message() -> str:
    return ("로그인하지 않았거나 보안 토큰이 없는 요청은 "
            f"{current_app.config['MAX_ANONYMOUS_BODY_KB']}KB까지 보낼 수 있습니다. "
            "로그인한 뒤 페이지를 새로 고쳐 다시 시도하세요.")
