"""Signing in and posting forms from tests, with CSRF switched ON as in production.

Every state-changing request needs the CSRF token Flask-WTF put in the page.
These helpers read it from a rendered page the way a browser would, so tests
never switch CSRF off::

    from tests.auth_helpers import login, post_form, signed_in

    def test_something(app, seeded):
        client = app.test_client()
        response = login(client, "audit", DEMO_PASSWORD)
        assert response.status_code == 303            # signed in, sent on
        response = post_form(client, "/recommendations/1/comments", {"body": "확인 바랍니다."},
                             token_from="/recommendations/1")

- ``csrf_token(client, path)``: GET ``path`` and return the token in its page.
- ``login(client, login, password)``: GET /login, POST the form with its token;
  returns the POST's response (303 to the next page when signed in, 200 with
  the Korean refusal when not). A client already signed in is signed out first.
- ``logout(client)``: POST /logout with a token.
- ``post_form(client, path, data, token_from=...)``: POST ``data`` plus a fresh token.
- ``signed_in(client)``: whether the client's cookie currently signs anyone in.
- ``session_cookie(client)`` / ``replay_session(client, value)``: copy the session
  cookie and put a copy back, for "a cookie copied before and replayed after" tests.

Within one session the token stays the same until the session is cleared
(sign-in, sign-out), so take a new one after those.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
# Any signed-in user, whatever the role, may open this page; it holds a CSRF token.
SIGNED_IN_PAGE = "/account/password"


class _TokenFinder(HTMLParser):
    """Finds ``<input name="csrf_token" value=...>`` or ``<meta name="csrf-token" content=...>``."""

    def __init__(self) -> None:
        super().__init__()
        self.token: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.token is not None:
            return
        values = dict(attrs)
        if tag == "input" and values.get("name") == "csrf_token" and values.get("value"):
            self.token = values["value"]
        elif tag == "meta" and values.get("name") == "csrf-token" and values.get("content"):
            self.token = values["content"]

    handle_startendtag = handle_starttag


def find_csrf_token(html: str) -> str | None:
    """The first CSRF token in a page, or None."""
    finder = _TokenFinder()
    finder.feed(html)
    finder.close()
    return finder.token


def csrf_token(client: Any, path: str = LOGIN_PATH) -> str:
    """GET ``path`` and return the CSRF token of its form. Fails clearly if there is none."""
    response = client.get(path)
    if response.status_code != 200:
        raise AssertionError(
            f"GET {path} answered {response.status_code}"
            + (f" (to {response.location})" if response.location else "")
            + ", so it has no form to take a CSRF token from"
        )
    token = find_csrf_token(response.get_data(as_text=True))
    if not token:
        raise AssertionError(f"GET {path} has no csrf_token field or csrf-token meta tag")
    return token


def signed_in(client: Any) -> bool:
    """Whether the client's current cookie signs a user in (a signed-in-only page opens)."""
    response = client.get(SIGNED_IN_PAGE)
    if response.status_code == 200:
        return True
    if response.status_code in (301, 302, 303) and LOGIN_PATH in (response.location or ""):
        return False
    raise AssertionError(f"GET {SIGNED_IN_PAGE} answered {response.status_code}")


def logout(client: Any, *, follow_redirects: bool = False) -> Any:
    """POST /logout with a valid token (taken from whatever page this client may open)."""
    token = csrf_token(client, SIGNED_IN_PAGE if signed_in(client) else LOGIN_PATH)
    return client.post(LOGOUT_PATH, data={"csrf_token": token},
                       follow_redirects=follow_redirects)


def login(client: Any, login: str, password: str, *, next: str | None = None,
          follow_redirects: bool = False) -> Any:
    """Sign in through the login form; return the response to the POST.

    Success: 303 to ``next`` (or the home page). Refusal: 200 with the Korean message.
    """
    path = LOGIN_PATH + (f"?next={next}" if next else "")
    response = client.get(path)
    if response.status_code in (301, 302, 303):
        # Already signed in (the login page sends signed-in users on): sign out
        # first, so this sign-in starts like one in a fresh browser.
        logout(client)
        response = client.get(path)
    assert response.status_code == 200, f"GET {path} answered {response.status_code}"
    token = find_csrf_token(response.get_data(as_text=True))
    assert token, f"GET {path} has no csrf_token field"
    return client.post(path, data={"csrf_token": token, "login": login, "password": password},
                       follow_redirects=follow_redirects)


def post_form(client: Any, path: str, data: dict[str, Any] | None = None, *,
              token_from: str | None = None, follow_redirects: bool = False) -> Any:
    """POST ``data`` to ``path`` with a CSRF token read from ``token_from`` (default: ``path``)."""
    token = csrf_token(client, token_from or path)
    return client.post(path, data={**(data or {}), "csrf_token": token},
                       follow_redirects=follow_redirects)


def session_cookie(client: Any) -> str | None:
    """The value of the client's session cookie, to replay later (None when it has none)."""
    name = client.application.config.get("SESSION_COOKIE_NAME", "session")
    cookie = client.get_cookie(name)
    return cookie.value if cookie is not None else None


def replay_session(client: Any, value: str) -> None:
    """Put a copied session cookie back into the client, as an attacker would."""
    name = client.application.config.get("SESSION_COOKIE_NAME", "session")
    client.set_cookie(name, value)
