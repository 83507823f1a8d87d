"""Every kind of response carries the security headers; no page has inline script; errors are Korean."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.auth_helpers import csrf_token
from tests.pages_helpers import client_for, text

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
REQUIRED_CSP = ("default-src 'self'", "object-src 'none'", "base-uri 'none'",
                "frame-ancestors 'none'", "form-action 'self'")


def assert_secure(response, where: str) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    for directive in REQUIRED_CSP:
        assert directive in csp, f"{where}: CSP lacks {directive!r}: {csp!r}"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") == "same-origin", where
    assert response.headers.get("X-Frame-Options") == "DENY", where


def test_headers_on_html_json_errors_redirects_and_assets(app, make):
    rec = make.recommendation()
    signed_out = app.test_client()
    assert_secure(signed_out.get("/login"), "login page")
    assert_secure(signed_out.get("/"), "redirect to sign-in")
    assert_secure(signed_out.get("/api/v1/recommendations/1"), "JSON 401")
    assert_secure(signed_out.get("/assets/ui/app.css"), "static file")
    client = client_for(app, make.user("audit"))
    assert_secure(client.get(f"/recommendations/{rec.id}"), "HTML page")
    assert_secure(client.get(f"/api/v1/recommendations/{rec.id}"), "JSON")
    assert_secure(client.get("/no-such-page"), "404 page")
    assert_secure(client.get("/api/v1/recommendations/999999"), "JSON 404")
    assert_secure(client.post("/recommendations/new", data={}), "CSRF 400")


def test_signed_in_pages_and_json_are_not_cached_and_no_feature_is_allowed(app, make):
    rec = make.recommendation()
    client = client_for(app, make.user("audit"))
    for path in (f"/recommendations/{rec.id}", "/", f"/api/recommendations/{rec.id}"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store", path
        assert "camera=()" in response.headers["Permissions-Policy"], path
    assert "no-store" not in client.get("/assets/ui/app.css").headers.get("Cache-Control", "")
    assert "no-store" not in app.test_client().get("/login").headers.get("Cache-Control", "")
    assert "Strict-Transport-Security" not in client.get("/").headers  # plain HTTP here


def test_hsts_when_cookies_are_secure(own_app):
    own_app.config["SESSION_COOKIE_SECURE"] = True
    response = own_app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_pages_have_no_inline_script_or_handlers(app, make):
    team = make.team()
    rec = make.recommendation(lead=team, state="reviewing")
    client = client_for(app, make.user("audit"))
    for path in ("/", "/recommendations", f"/recommendations/{rec.id}", "/audits",
                 "/recommendations/new", f"/recommendations/{rec.id}/assign", "/nope"):
        html = client.get(path).get_data(as_text=True)
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, f"{path}: inline script {tag}"
        assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html), f"{path}: script with a body"
        assert not re.search(r"\son[a-z]+\s*=", html, re.I), f"{path}: an on* handler"
        assert not re.search(r"\sstyle\s*=", html, re.I), f"{path}: a style attribute"


def test_templates_hold_no_inline_script():
    for template in TEMPLATES.rglob("*.html"):
        source = template.read_text(encoding="utf-8")
        assert not re.search(r"<script\b(?![^>]*\bsrc=)[^>]*>", source), template
        assert not re.search(r"\son(click|load|submit|change|input|error|focus|blur)\s*=",
                             source, re.I), template


def test_krds_assets_are_served_from_this_machine(app):
    client = app.test_client()
    for path in ("/assets/krds/css/component/output.css", "/assets/krds/css/token/krds_tokens.css",
                 "/assets/krds/js/component/ui-script.js",
                 "/assets/krds/fonts/PretendardGOV-Regular.subset.woff2",
                 "/assets/ui/app.css", "/assets/ui/app.js"):
        response = client.get(path)
        assert response.status_code == 200, (
            f"{path} answered {response.status_code}: run `make install` (npm ci) so "
            "node_modules/krds-uiux exists")
    css = client.get("/assets/krds/css/component/output.css").get_data(as_text=True)
    assert not re.search(r"url\(\s*['\"]?https?://", css), "KRDS CSS must not load from the web"


@pytest.mark.parametrize(("status", "words"), [
    (404, "찾을 수 없음"), (405, "허용되지 않는 요청"),
])
def test_korean_error_pages(app, make, status, words):
    client = client_for(app, make.user("audit"))
    response = client.get("/no-such-page") if status == 404 else client.get("/logout")
    assert response.status_code == status
    assert words in text(response) and "처음 화면으로" in text(response)


def test_csrf_failure_is_a_korean_400_and_changes_nothing(app, make):
    rec = make.recommendation()
    client = client_for(app, make.user("audit"))
    response = client.post(f"/recommendations/{rec.id}/comments", data={"body": "토큰 없음"})
    assert response.status_code == 400
    assert ("보안 토큰이 만료되었거나 올바르지 않습니다. 페이지를 새로 고친 뒤 다시 시도하세요."
            in text(response))
    api = client.post(f"/api/v1/recommendations/{rec.id}/actions/start", json={"version": 1})
    assert api.status_code == 400 and api.get_json()["code"] == "csrf_failed"


def test_413_is_korean(own_app):
    from werkzeug.exceptions import RequestEntityTooLarge

    @own_app.get("/test-too-large")
    def too_large():  # registered on this test's own app only
        raise RequestEntityTooLarge()

    response = own_app.test_client().get("/test-too-large")
    assert response.status_code == 413
    assert f"파일 하나에 {own_app.config['MAX_UPLOAD_MB']}MB까지" in text(response)


def test_no_stack_trace_reaches_the_user(app, make, monkeypatch):
    from auditflow.api import v1 as api_routes
    from auditflow.web.home import routes as home_routes

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals /work/main/auditflow")

    rec = make.recommendation()
    client = client_for(app, make.user("audit"))
    monkeypatch.setattr(home_routes, "work_queue", boom)
    monkeypatch.setattr(api_routes, "detail", boom)

    page = client.get("/")
    assert page.status_code == 500
    body = page.get_data(as_text=True)
    assert "일시적인 오류가 발생했습니다" in body
    for leak in ("Traceback", "RuntimeError", "secret internals", ".py"):
        assert leak not in body
    assert_secure(page, "500 page")

    api = client.get(f"/api/v1/recommendations/{rec.id}")
    assert api.status_code == 500
    assert api.get_json()["code"] == "server_error" and api.get_json()["status"] == 500
    assert "secret" not in api.get_data(as_text=True)


def test_token_helper_finds_the_logout_form_token(app, make):
    client = client_for(app, make.user("liaison"))
    assert csrf_token(client, "/")


def test_a_foreign_host_is_refused_when_the_hosts_are_set(own_app):
    own_app.config["TRUSTED_HOSTS"] = ["audit.example.go.kr"]
    client = own_app.test_client()
    assert client.get("/login", headers={"Host": "audit.example.go.kr"}).status_code == 200
    refused = client.get("/login", headers={"Host": "evil.example"})
    assert refused.status_code == 400 and "잘못된 요청" in refused.get_data(as_text=True)
