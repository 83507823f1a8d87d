"""Small helpers for the page tests: a signed-in client, a form post with its token."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from auditflow.extensions import db
from tests.auth_helpers import csrf_token, login
from tests.factories import PASSWORD


def client_for(app: Any, user: Any) -> Any:
    db.session.commit()
    client = app.test_client()
    response = login(client, user.login, PASSWORD)
    assert response.status_code == 303, f"{user.login} could not sign in"
    return client


def post(client: Any, path: str, data: dict[str, Any] | None = None, *,
         follow: bool = False) -> Any:
    token = csrf_token(client, "/")
    return client.post(path, data={**(data or {}), "csrf_token": token},
                       follow_redirects=follow)


def text(response: Any) -> str:
    """The page as a person reads it: tags dropped, entities decoded, spaces squeezed."""
    return text_of(response.get_data(as_text=True))


def text_of(html: str) -> str:
    """``text`` of a piece of a page."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def fresh(obj: Any) -> Any:
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)
