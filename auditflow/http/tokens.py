"""Who a JSON API request is: a personal access token (``Authorization: Bearer``) or the cookie.

Flask-WTF's own check is switched off (``WTF_CSRF_CHECK_DEFAULT = False``) and made here
instead, after the token is read: a request a valid bearer token authenticated carries no
cookie's authority, so it needs no CSRF token; every other write does, pages and API alike.
A JSON request that no cookie signs in has no authority a forged request could borrow
either, and gets the API's 401. A token authenticates only under /api/, acts with its
user's rights, and a read token
reads only. The token's last use is noted on it and committed with the request.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_login import current_user

from auditflow.errors import DomainError, Forbidden
from auditflow.extensions import csrf, login_manager
from auditflow.http import bodies
from auditflow.http.errors import json_too_large_message, wants_json
from auditflow.models import ApiToken
from auditflow.services import tokens
from auditflow.vocabulary import TokenScope

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BodyTooLarge(DomainError):
    status = 413
    code = "body_too_large"


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return secret.strip()


def api_token() -> ApiToken | None:
    """The token that authenticated this request, if one did."""
    token: ApiToken | None = g.get("api_token")
    return token


def _authenticate() -> None:
    if not wants_json():
        return
    _limit_json_body()
    secret = bearer_secret()
    if secret is None:
        return
    token = tokens.authenticate(secret)
    g.api_token = token
    # The request's user, without a session: nothing is written to the cookie.
    login_manager._update_request_context_with_user(token.user)
    if token.scope_enum is TokenScope.READ and request.method not in READ_METHODS:
        raise Forbidden("읽기 전용 토큰으로는 변경할 수 없습니다. 쓰기(write) 토큰을 쓰세요.",
                        code="token_read_only")


def _limit_json_body() -> None:
    if request.mimetype not in ("application/json", "application/problem+json"):
        return
    limit = current_app.config["MAX_JSON_KB"] * 1024
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge(json_too_large_message())
    request.max_content_length = limit  # a body without a length stops at the limit too


def _protect() -> None:
    config = current_app.config
    if not config.get("WTF_CSRF_ENABLED", True) or request.method not in config.get(
            "WTF_CSRF_METHODS", ("POST", "PUT", "PATCH", "DELETE")):
        return
    if request.endpoint is None or api_token() is not None:
        return
    if wants_json() and not current_user.is_authenticated:
        return  # nobody's cookie speaks for this request: the API answers 401 itself
    csrf.protect()


def init_app(app: Flask) -> None:
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.before_request(_authenticate)
    app.before_request(bodies.limit_body)  # after the token is known, before the form is read
    app.before_request(_protect)
