"""flask-smorest, bound per application, documenting errors as our problem details."""

from __future__ import annotations

import http
from typing import Any

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from auditflow.api.schemas import Problem

PROBLEM = "application/problem+json"

SPEC_CONFIG: dict[str, Any] = {
    "API_TITLE": "auditflow 행정사무감사 처리결과 관리 API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "info": {"description": (
            "개인 액세스 토큰(Authorization: Bearer af_…) 또는 로그인 쿠키로 인증합니다. "
            "쿠키로 변경 요청을 보낼 때는 X-CSRFToken 헤더가 필요합니다. "
            "오류는 RFC 9457 problem details(application/problem+json)이며 code가 안정적인 "
            "오류 코드입니다.")},
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "/account/tokens 또는 flask token create로 만든 토큰"},
        }},
        "security": [{"bearer": []}],
    },
}


class ProblemApi(Api):
    """The application keeps its own error handlers (Korean pages, problem details); the
    document says every error answer is a problem."""

    ERROR_SCHEMA = Problem

    def _register_error_handlers(self) -> None:
        pass

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = Problem
            prepare_response(response, self.spec, PROBLEM)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "오류 (problem details)", "schema": Problem}
        prepare_response(response, self.spec, PROBLEM)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def make_api(app: Flask) -> Api:
    for key, value in SPEC_CONFIG.items():
        app.config.setdefault(key, value)
    return ProblemApi(app)
