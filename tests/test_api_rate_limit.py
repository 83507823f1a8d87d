"""Requests per token under /api are limited (Flask-Limiter); the pages are not."""

from __future__ import annotations

import pytest

from auditflow.api.limits import storage_uri
from tests.test_api_tokens import _token, bearer


@pytest.fixture
def app_config():
    return {"API_RATE_LIMIT": "3 per minute"}


def test_requests_per_token_are_limited(app, make):
    user = make.user("liaison")
    first, second = _token(user), _token(user)
    client = app.test_client()
    answers = [client.get("/api/v1/audits", headers=bearer(first)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = client.get("/api/v1/audits", headers=bearer(first))
    assert limited.mimetype == "application/problem+json"
    assert limited.get_json()["code"] == "rate_limited"
    assert "Retry-After" in limited.headers
    # Another token counts on its own; the pages are not limited.
    assert client.get("/api/v1/audits", headers=bearer(second)).status_code == 200
    assert all(client.get("/login").status_code == 200 for _ in range(5))


def test_the_counts_go_to_redis_when_one_is_set(app):
    assert storage_uri(app) == "memory://"
    app.config.update(QUEUE_URL="redis://queue:6379/0")
    assert storage_uri(app) == "redis://queue:6379/0"
    app.config.update(RATE_LIMIT_URL="redis://limits:6379/1")
    assert storage_uri(app) == "redis://limits:6379/1"
