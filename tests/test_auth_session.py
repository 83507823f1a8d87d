"""The signed-in session: fixed at login, ended for real at logout, password change and
deactivation, limited by idle time and lifetime; cookie flags. CSRF is on."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from auditflow import create_app
from auditflow.extensions import db
from auditflow.http import sessions
from auditflow.models import User, UserSession, utcnow
from auditflow.services import user_sessions
from tests.auth_helpers import (
    csrf_token,
    login,
    logout,
    post_form,
    replay_session,
    session_cookie,
    signed_in,
)
from tests.factories import PASSWORD

NEW_PASSWORD = "Brand-new-pass-42"


def text(response) -> str:
    return response.get_data(as_text=True)


def device_of(client) -> UserSession | None:
    """The server-side session the client's cookie names (ended or not), if any."""
    with client.session_transaction() as session:
        secret = session.get("_user_id")
    if secret is None:
        return None
    db.session.expire_all()
    return db.session.scalars(select(UserSession).where(
        UserSession.secret_hash == user_sessions.hash_secret(secret))).first()


def live_sessions(user: User) -> list[UserSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None))))


@pytest.fixture
def user(make):
    person = make.user("department")
    db.session.commit()
    return person


@pytest.fixture
def admin(make):
    person = make.user("admin")
    db.session.commit()
    return person


def signed_in_client(app, who: User):
    client = app.test_client()
    assert login(client, who.login, PASSWORD).status_code == 303
    return client


# --- at login -----------------------------------------------------------------------------

def test_the_session_names_a_token_not_the_user_id(app, user):
    client = signed_in_client(app, user)
    with client.session_transaction() as session:
        assert session["_user_id"] != str(user.id)
        assert "_remember" not in session
    row = device_of(client)
    assert row is not None and row.user_id == user.id and row.ended_at is None
    assert live_sessions(user) == [row]


def test_nothing_set_before_login_survives_it(app, user):
    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    planted = session_cookie(client)

    assert login(client, user.login, PASSWORD).status_code == 303
    with client.session_transaction() as session:
        assert "planted" not in session
    assert device_of(client).user_id == user.id
    assert session_cookie(client) != planted

    # The cookie planted before login does not sign anyone in afterwards.
    attacker = app.test_client()
    replay_session(attacker, planted)
    assert not signed_in(attacker)


def test_a_planted_user_token_without_sign_in_times_is_dropped(app, user):
    client = signed_in_client(app, user)
    with client.session_transaction() as session:
        session.pop(sessions.LOGIN_AT)
        session["planted"] = "x"
    assert not signed_in(client)
    with client.session_transaction() as session:
        assert "planted" not in session and "_user_id" not in session


def test_login_elsewhere_ends_nothing_else(app, user):
    first = signed_in_client(app, user)
    signed_in_client(app, user)
    assert signed_in(first)
    assert len(live_sessions(user)) == 2


def test_no_remember_me_cookie_and_safe_cookie_flags(app, user):
    client = app.test_client()
    client.get("/login")
    response = login(client, user.login, PASSWORD)
    cookies = response.headers.getlist("Set-Cookie")
    session_cookies = [c for c in cookies if c.startswith("session=")]
    assert session_cookies, cookies
    flags = session_cookies[-1].lower()
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "secure" not in flags  # not configured here
    assert not [c for c in cookies if c.startswith("remember_token=")]


class TestSecureCookies:
    @pytest.fixture
    def app_config(self):
        return {"SESSION_COOKIE_SECURE": True}

    def test_secure_flag_when_configured(self, app, user):
        client = app.test_client()
        client.get("/login", base_url="https://localhost")
        token = csrf_token(client, "/login")
        response = client.post("/login", base_url="https://localhost",
                               headers={"Referer": "https://localhost/login"},
                               data={"csrf_token": token, "login": user.login, "password": PASSWORD})
        assert response.status_code == 303
        cookie = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")][-1]
        assert "; secure" in cookie.lower()


def test_secure_cookies_are_switched_on_by_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("AUDITFLOW_SECURE_COOKIES", "1")
    monkeypatch.setenv("AUDITFLOW_SESSION_IDLE_MINUTES", "10")
    monkeypatch.setenv("AUDITFLOW_LOGIN_MAX_FAILURES", "7")
    app = create_app({"AUDITFLOW_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_IDLE_MINUTES"] == 10
    assert app.config["SESSION_MAX_HOURS"] == 12
    assert app.config["LOGIN_MAX_FAILURES"] == 7
    assert app.config["LOGIN_LOCK_MINUTES"] == 15


def test_defaults(app):
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["SESSION_IDLE_MINUTES"] == 30
    assert app.config["SESSION_MAX_HOURS"] == 12
    assert app.config["LOGIN_MAX_FAILURES"] == 5
    assert app.config["LOGIN_LOCK_MINUTES"] == 15


# --- logout -------------------------------------------------------------------------------

def test_logout_ends_the_session_for_real(app, user):
    client = signed_in_client(app, user)
    copied = session_cookie(client)
    before = device_of(client)

    response = logout(client)
    assert response.status_code == 303
    assert response.location == "/login"
    assert "로그아웃되었습니다." in text(client.get("/login"))
    assert not signed_in(client)
    db.session.refresh(before)
    assert before.ended_at is not None and before.end_reason == "logout"

    replay_session(client, copied)
    assert not signed_in(client)
    other = app.test_client()
    replay_session(other, copied)
    assert not signed_in(other)


def test_get_logout_does_not_log_out(app, user):
    client = signed_in_client(app, user)
    response = client.get("/logout")
    assert response.status_code == 405
    assert signed_in(client)
    assert device_of(client).ended_at is None


def test_logout_without_csrf_token_is_refused(app, user):
    client = signed_in_client(app, user)
    response = client.post("/logout")
    assert response.status_code == 400
    assert "보안 토큰" in text(response)
    assert signed_in(client)
    assert device_of(client).ended_at is None
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert signed_in(client)


# --- password change and deactivation end existing sessions -----------------------------------

def test_own_password_change_ends_other_sessions_and_keeps_this_one(app, user):
    here = signed_in_client(app, user)
    elsewhere = signed_in_client(app, user)
    copied = session_cookie(here)

    response = post_form(here, "/account/password", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD})
    assert response.status_code == 303
    assert signed_in(here)
    assert not signed_in(elsewhere)
    thief = app.test_client()
    replay_session(thief, copied)
    assert not signed_in(thief)


def test_password_reset_by_admin_ends_the_users_sessions(app, user, admin):
    victim = signed_in_client(app, user)
    copied = session_cookie(victim)
    boss = signed_in_client(app, admin)
    response = post_form(boss, f"/admin/users/{user.id}/password",
                         {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 303
    assert not signed_in(victim)
    replay_session(victim, copied)
    assert not signed_in(victim)
    assert signed_in(boss)


def test_deactivation_ends_the_users_sessions(app, user, admin):
    victim = signed_in_client(app, user)
    copied = session_cookie(victim)
    boss = signed_in_client(app, admin)
    response = post_form(boss, f"/admin/users/{user.id}/active", {"confirm": "y"})
    assert response.status_code == 303
    assert not signed_in(victim)
    replay_session(victim, copied)
    assert not signed_in(victim)


def test_reactivation_does_not_bring_old_sessions_back(app, user, admin):
    victim = signed_in_client(app, user)
    copied = session_cookie(victim)
    boss = signed_in_client(app, admin)
    post_form(boss, f"/admin/users/{user.id}/active", {"confirm": "y"})
    post_form(boss, f"/admin/users/{user.id}/active", {"confirm": "y"})
    db.session.expire_all()
    assert db.session.get(User, user.id).active
    replay_session(victim, copied)
    assert not signed_in(victim)
    assert login(app.test_client(), user.login, PASSWORD).status_code == 303


# --- idle timeout and absolute lifetime ---------------------------------------------------------

def age(client, *, idle_minutes: float = 0, since_login_minutes: float | None = None) -> None:
    """Pretend the last request was ``idle_minutes`` ago and sign-in ``since_login_minutes`` ago."""
    now = utcnow()
    with client.session_transaction() as session:
        session[sessions.SEEN_AT] = (now - timedelta(minutes=idle_minutes)).timestamp()
        if since_login_minutes is not None:
            session[sessions.LOGIN_AT] = (now - timedelta(minutes=since_login_minutes)).timestamp()


def test_idle_session_is_ended_with_a_korean_message(app, user):
    client = signed_in_client(app, user)
    elsewhere = signed_in_client(app, user)  # the same person in another browser, still active
    age(client, idle_minutes=31)
    copied = session_cookie(client)

    response = client.get("/account/password?tab=1")
    assert response.status_code == 302
    assert response.location == "/login?next=%2Faccount%2Fpassword%3Ftab%3D1"  # and back after
    page = client.get(response.location)
    assert "장시간 사용하지 않아 로그아웃되었습니다." in text(page)
    assert not signed_in(client)
    # The cookie (and any copy of it) carries the times that expired it: it never signs in again.
    replay_session(client, copied)
    assert not signed_in(client)
    # Ending this browser's idle session does not end the user's other sessions.
    assert signed_in(elsewhere)


def test_an_expired_session_gets_json_401_from_the_api(app, make):
    reader = make.user("audit")
    item = make.recommendation()
    db.session.commit()
    client = signed_in_client(app, reader)
    assert client.get(f"/api/v1/recommendations/{item.id}").status_code == 200
    age(client, idle_minutes=31)
    copied = session_cookie(client)
    response = client.get(f"/api/v1/recommendations/{item.id}")
    assert response.status_code == 401
    assert response.get_json()["code"] == "login_required"
    assert not signed_in(client)
    replay_session(client, copied)
    assert client.get(f"/api/v1/recommendations/{item.id}").status_code == 401


def test_activity_within_the_idle_limit_keeps_the_session(app, user):
    client = signed_in_client(app, user)
    age(client, idle_minutes=29)
    assert client.get("/account/password").status_code == 200
    with client.session_transaction() as session:
        assert utcnow().timestamp() - session[sessions.SEEN_AT] < 60  # the request was noted
    age(client, idle_minutes=29)
    assert signed_in(client)


def test_a_request_is_noted_once_a_minute_and_the_cookie_sent_again_only_then(app, user):
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    client = signed_in_client(app, user)
    client.get("/account/password")  # the first page keeps the form token in the session
    age(client, idle_minutes=0.5)
    with client.session_transaction() as session:
        noted = session[sessions.SEEN_AT]
    answer = client.get("/account/password")
    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers  # half a minute: not noted again
    with client.session_transaction() as session:
        assert session[sessions.SEEN_AT] == noted
    # The page's warning counts from the note, as the server does.
    assert idle - 40 <= warning_seconds(answer.text) <= idle - 29
    age(client, idle_minutes=1.5)
    answer = client.get("/account/password")
    assert answer.status_code == 200 and "Set-Cookie" in answer.headers
    with client.session_transaction() as session:
        assert utcnow().timestamp() - session[sessions.SEEN_AT] < 60
    assert warning_seconds(answer.text) >= idle - 10


def warning_seconds(page: str) -> int:
    """The seconds the page's idle warning counts down from."""
    found = re.search(r'data-session-seconds="(\d+)"', page)
    assert found, "the page has no idle warning"
    return int(found.group(1))


def test_session_ends_after_its_lifetime_even_when_busy(app, user):
    client = signed_in_client(app, user)
    age(client, idle_minutes=0, since_login_minutes=12 * 60 - 1)
    assert signed_in(client)
    age(client, idle_minutes=0, since_login_minutes=12 * 60 + 1)
    response = client.get("/account/password")
    assert response.status_code == 302
    assert "장시간 사용하지 않아 로그아웃되었습니다." in text(client.get(response.location))
    assert not signed_in(client)


def test_a_session_without_its_times_is_not_trusted(app, user):
    client = signed_in_client(app, user)
    with client.session_transaction() as session:
        del session[sessions.LOGIN_AT]
    assert not signed_in(client)


def test_an_expired_session_cannot_post(app, user):
    client = signed_in_client(app, user)
    token = csrf_token(client, "/account/password")
    age(client, idle_minutes=45)
    response = client.post("/account/password", data={
        "csrf_token": token, "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.location == "/login"
    assert login(app.test_client(), user.login, PASSWORD).status_code == 303  # unchanged


class TestConfiguredLimits:
    @pytest.fixture
    def app_config(self):
        return {"SESSION_IDLE_MINUTES": 5, "SESSION_MAX_HOURS": 1}

    def test_idle_limit_from_configuration(self, app, user):
        client = signed_in_client(app, user)
        age(client, idle_minutes=4)
        assert signed_in(client)
        age(client, idle_minutes=6)
        assert not signed_in(client)

    def test_lifetime_from_configuration(self, app, user):
        client = signed_in_client(app, user)
        age(client, since_login_minutes=61)
        assert not signed_in(client)
