"""Personal access tokens: the API's matrix again with bearer tokens, scope, expiry,
revocation, CSRF only for cookies, the token page and command, limits and the rate limit."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from auditflow.extensions import db
from auditflow.models import ApiToken, Comment, utcnow
from auditflow.services import tokens
from tests.access_matrix import ACTORS, API_MATRIX, CHANGED, Case
from tests.auth_helpers import csrf_token
from tests.pages_helpers import client_for, fresh, post, text
from tests.test_access_matrix import build_world, snapshot


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _token(user: Any, scope: str = "write", **kwargs: Any) -> str:
    made = tokens.create(user, name="테스트", scope=scope, **kwargs)
    db.session.commit()
    return made.secret


TOKEN_PARAMS = [
    pytest.param(endpoint, method, actor, id=f"{endpoint}-{method}-{actor}")
    for (endpoint, method) in sorted(API_MATRIX)
    for actor in ACTORS
]


@pytest.mark.parametrize(("endpoint", "method", "actor"), TOKEN_PARAMS)
def test_the_api_matrix_with_write_tokens(app, make, backend, endpoint, method, actor):
    """The same answers as with cookies, without any CSRF token; signed out is 401."""
    case: Case = API_MATRIX[(endpoint, method)]
    world = build_world(make, case, backend)
    headers = {} if actor == "anonymous" else bearer(_token(world.users[actor]))
    url = case.url(world)
    client = app.test_client()
    if method == "GET":
        response = client.get(url, headers=headers)
        before = None
    else:
        before = snapshot(world)
        data = case.data(world) if case.data else {}
        response = (client.post(url, json=data, headers=headers) if case.json
                    else client.post(url, data=data, headers=headers))
    expected = case.expect[actor]
    where = f"{method} {url} as {actor} with a token: {response.status_code}"
    if expected == CHANGED:
        assert response.status_code < 400, where
    else:
        assert response.status_code == expected, where
        if expected >= 400:
            assert response.mimetype == "application/problem+json", where
    assert "Set-Cookie" not in response.headers, f"{where}: a token request set a cookie"
    if before is not None:
        after = snapshot(world)
        assert (after != before) == (expected == CHANGED), where


def test_a_read_token_reads_and_cannot_write(app, make):
    team = make.team()
    rec = make.recommendation(lead=team)
    worker = make.user("department", team=team)
    secret = _token(worker, scope="read")
    client = app.test_client()
    assert client.get(f"/api/v1/recommendations/{rec.id}", headers=bearer(secret)).status_code == 200
    refused = client.post(f"/api/v1/recommendations/{rec.id}/actions/start",
                          json={"version": fresh(rec).version}, headers=bearer(secret))
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "token_read_only"
    assert fresh(rec).state == "received"
    comment = client.post(f"/api/v1/recommendations/{rec.id}/comments", json={"body": "x"},
                          headers=bearer(secret))
    assert comment.status_code == 403
    assert db.session.query(Comment).count() == 0


def test_expired_revoked_unknown_and_inactive_tokens_are_401(app, make):
    rec = make.recommendation()
    user = make.user("audit")
    expired = tokens.create(user, name="옛것", now=utcnow() - timedelta(days=2), days=1).secret
    revoked = tokens.create(user, name="폐기")
    tokens.revoke(user, revoked.token.id)
    db.session.commit()
    path = f"/api/v1/recommendations/{rec.id}"
    client = app.test_client()
    for secret, code in ((expired, "token_expired"), (revoked.secret, "token_revoked"),
                         ("af_" + "x" * 40, "token_invalid"), ("nonsense", "token_invalid")):
        response = client.get(path, headers=bearer(secret))
        assert response.status_code == 401, code
        assert response.get_json()["code"] == code
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    inactive = make.user("liaison")
    secret = _token(inactive)
    inactive.active = False
    db.session.commit()
    assert client.get(path, headers=bearer(secret)).get_json()["code"] == "user_inactive"


def test_a_token_records_its_last_use_and_expires_after_the_default_days(app, make):
    user = make.user("liaison")
    made = tokens.create(user, name="집계")
    db.session.commit()
    assert made.token.last_used_at is None
    assert made.token.expires_at - made.token.created_at == timedelta(days=90)
    assert made.token.prefix == made.secret[:9] and made.token.secret_hash != made.secret
    app.test_client().get("/api/v1/audits", headers=bearer(made.secret))
    assert fresh(made.token).last_used_at is not None


def test_cookies_need_the_csrf_token_and_a_bearer_token_does_not(app, make):
    rec = make.recommendation(state="reviewing")
    auditor = make.user("audit")
    client = client_for(app, auditor)
    path = f"/api/v1/recommendations/{rec.id}/comments"
    refused = client.post(path, json={"body": "쿠키만"})
    assert refused.status_code == 400 and refused.get_json()["code"] == "csrf_failed"
    token = csrf_token(client, "/")
    assert client.post(path, json={"body": "쿠키와 토큰"},
                       headers={"X-CSRFToken": token}).status_code == 201
    secret = _token(auditor)
    assert app.test_client().post(path, json={"body": "bearer"},
                                  headers=bearer(secret)).status_code == 201
    # A bad bearer token beside a good cookie is refused: it never falls back to the cookie.
    assert client.post(path, json={"body": "x"},
                       headers={**bearer("af_wrong"), "X-CSRFToken": token}).status_code == 401
    # A bearer token does not switch CSRF off for the pages.
    page = client.post(f"/recommendations/{rec.id}/comments", data={"body": "폼"},
                       headers=bearer(secret))
    assert page.status_code == 400
    assert [c.body for c in db.session.query(Comment).order_by(Comment.id)] == [
        "쿠키와 토큰", "bearer"]


def test_the_token_page_shows_a_new_token_once_and_revokes(app, make):
    user = make.user("department", team=make.team())
    client = client_for(app, user)
    made = post(client, "/account/tokens", {"name": "주간 보고", "scope": "write", "days": "30"})
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    secret = re.search(r'value="(af_[^"]+)"', made.get_data(as_text=True)).group(1)
    assert "지금 복사해 두세요" in text(made)
    again = client.get("/account/tokens")
    assert secret not in again.get_data(as_text=True)
    assert secret[:9] in text(again) and "주간 보고" in text(again) and "읽기·쓰기" in text(again)
    [row] = db.session.query(ApiToken).all()
    assert row.expires_at - row.created_at == timedelta(days=30)
    assert app.test_client().get("/api/v1/audits", headers=bearer(secret)).status_code == 200
    post(client, f"/account/tokens/{row.id}/revoke")
    assert app.test_client().get("/api/v1/audits", headers=bearer(secret)).status_code == 401
    assert "폐기됨" in text(client.get("/account/tokens"))
    refused = post(client, "/account/tokens", {"name": "", "scope": "read", "days": "0"})
    assert refused.status_code == 400 and "토큰 이름을 입력하세요" in text(refused)


def test_the_command_prints_the_token_once(app, make):
    user = make.user("audit")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["token", "create", "--login", user.login,
                                                "--scope", "write", "--days", "7"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[0]
    assert secret.startswith("af_")
    row = db.session.query(ApiToken).one()
    assert (row.scope, row.expires_at - row.created_at) == ("write", timedelta(days=7))
    assert app.test_client().get("/api/v1/audits", headers=bearer(secret)).status_code == 200
    missing = app.test_cli_runner().invoke(args=["token", "create", "--login", "nobody"])
    assert missing.exit_code == 1 and "user_not_found" in missing.output


def test_json_bodies_and_text_fields_are_bounded(app, make):
    rec = make.recommendation(state="reviewing")
    auditor = make.user("audit")
    secret = _token(auditor)
    client = app.test_client()
    path = f"/api/v1/recommendations/{rec.id}"
    huge = client.post(f"{path}/comments", json={"body": "가" * 300_000}, headers=bearer(secret))
    assert huge.status_code == 413 and huge.get_json()["code"] == "body_too_large"
    assert "256KB" in huge.get_json()["detail"]
    long_reason = client.post(f"{path}/actions/return_for_rework",
                              json={"version": fresh(rec).version, "reason": "가" * 2001},
                              headers=bearer(secret))
    assert long_reason.status_code == 422
    assert long_reason.get_json()["field"] == "reason"
    assert "2000자 이하" in long_reason.get_json()["detail"]
    long_comment = client.post(f"{path}/comments", json={"body": "가" * 5001},
                               headers=bearer(secret))
    assert long_comment.status_code == 422 and long_comment.get_json()["field"] == "body"
    assert fresh(rec).state == "reviewing" and db.session.query(Comment).count() == 0


def test_the_services_bound_every_text_whatever_sent_it(app, make):
    from auditflow.errors import DomainError
    from auditflow.services import comments, extensions, recommendations

    team = make.team()
    rec = make.recommendation(lead=team, state="in_progress")
    worker = make.user("department", team=team)
    auditor = make.user("audit")
    cases = [
        (lambda: comments.add(rec, worker, "가" * 5001), "body"),
        (lambda: recommendations.edit_result(rec, worker, action_details="가" * 20001,
                                             future_plan=None), "action_details"),
        (lambda: recommendations.edit_result(rec, worker, action_details="ㅇ 내용",
                                             future_plan="가" * 10001), "future_plan"),
        (lambda: recommendations.edit_text(rec, auditor, council_text="가" * 5001,
                                           category=rec.category, reason="정정"),
         "council_text"),
        (lambda: recommendations.fire(rec, "submit", worker, reason="가" * 2001), "reason"),
        (lambda: extensions.decide(
            extensions.request(rec, worker, rec.due_date or date(2030, 1, 1), "일정"),
            "approve_extension", auditor, reason="가" * 2001), "reason"),
    ]
    for call, field in cases:
        with pytest.raises(DomainError) as refused:
            call()
        assert (refused.value.status, refused.value.field) == (422, field)
        assert refused.value.code == f"{field}_too_long"
