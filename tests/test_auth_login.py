"""Sign-in: success, refusal without telling which logins exist, lockout, every attempt recorded.

CSRF is on: every POST carries the token read from the rendered form (tests/auth_helpers.py).
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import LoginAttempt, LoginThrottle, User, utcnow
from tests.auth_helpers import find_csrf_token, login, signed_in
from tests.factories import PASSWORD

GENERIC = "아이디 또는 비밀번호가 올바르지 않습니다."
LOCKED = re.compile(
    r"비밀번호를 (\d+)회 잘못 입력하여 이 접속 위치에서의 로그인이 잠겼습니다\. "
    r"(\d\d:\d\d) 이후에 다시 시도하세요\."
)
WRONG = "Wrong-guess-77!"


def text(response) -> str:
    return response.get_data(as_text=True)


def refusal(response) -> str:
    """The refusal shown on the login page (empty when there is none)."""
    found = re.search(r'id="login-refusal"><p>(.*?)</p>', text(response), re.S)
    return found.group(1) if found else ""


def attempts(login_name: str) -> list[LoginAttempt]:
    return list(db.session.scalars(
        select(LoginAttempt).where(LoginAttempt.login == login_name).order_by(LoginAttempt.id)))


def fresh(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def counts(login_name: str, address: str = "127.0.0.1") -> LoginThrottle | None:
    """The sign-in counts of this login from this address (the test client's by default)."""
    db.session.expire_all()
    return db.session.scalars(select(LoginThrottle).where(
        LoginThrottle.login == login_name, LoginThrottle.remote_addr == address)).first()


def is_locked(login_name: str, address: str = "127.0.0.1") -> bool:
    row = counts(login_name, address)
    return row is not None and row.locked_until is not None and row.locked_until > utcnow()


def end_lock(login_name: str, address: str = "127.0.0.1") -> None:
    """Move the end of the lock into the past instead of waiting."""
    row = counts(login_name, address)
    row.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()


@pytest.fixture
def people(make):
    """Two audit-team users, committed (a refused request rolls back what is not)."""
    first, second = make.user("audit"), make.user("audit")
    db.session.commit()
    return first, second


def test_right_password_signs_in_and_goes_home(app, people):
    user, _ = people
    client = app.test_client()
    response = login(client, user.login, PASSWORD)
    assert response.status_code == 303
    assert response.location == "/"
    assert signed_in(client)
    assert [(a.success, a.reason) for a in attempts(user.login)] == [(True, None)]


def test_login_ignores_case_and_surrounding_spaces(app, people):
    user, _ = people
    client = app.test_client()
    assert login(client, f"  {user.login.upper()} ", PASSWORD).status_code == 303
    assert signed_in(client)


def test_wrong_password_is_refused_in_korean_and_counted(app, people):
    user, _ = people
    client = app.test_client()
    response = login(client, user.login, WRONG)
    assert response.status_code == 200
    assert refusal(response) == GENERIC
    assert not signed_in(client)
    assert counts(user.login).attempts == 1


def test_unknown_login_gets_the_same_answers_as_a_real_one(app, people):
    user, _ = people
    client = app.test_client()
    wrong_password = login(client, user.login, WRONG)
    unknown = login(client, "nobody-here", WRONG)
    assert unknown.status_code == wrong_password.status_code == 200
    assert refusal(unknown) == refusal(wrong_password) == GENERIC

    def page(response, typed: str) -> str:
        html = text(response).replace(find_csrf_token(text(response)) or "", "TOKEN")
        return html.replace(f'value="{typed}"', 'value="LOGIN"')

    # Apart from the login typed back into its field, the two pages are the same.
    assert page(unknown, "nobody-here") == page(wrong_password, user.login)

    # An unknown login is counted and locked like a real one: the lock tells nothing.
    answers = {}
    for name in (user.login, "nobody-here"):
        answers[name] = [refusal(login(client, name, WRONG)) for _ in range(5)]
    assert answers[user.login][:3] == answers["nobody-here"][:3] == [GENERIC] * 3
    assert LOCKED.search(answers[user.login][3]) and LOCKED.search(answers["nobody-here"][3])
    assert LOCKED.search(answers[user.login][4]) and LOCKED.search(answers["nobody-here"][4])
    assert db.session.scalar(select(func.count()).select_from(User)) == 2
    assert [a.reason for a in attempts("nobody-here")] == ["unknown_login"] * 5 + ["locked"]


def test_five_failures_lock_the_account_and_say_until_when(app, people):
    user, other = people
    client = app.test_client()
    for _ in range(4):
        assert refusal(login(client, user.login, WRONG)) == GENERIC
    before = utcnow()
    response = login(client, user.login, WRONG)
    locked = LOCKED.search(refusal(response))
    assert locked, refusal(response)
    stored = counts(user.login)
    assert stored.locked_until is not None
    assert before + timedelta(minutes=15) <= stored.locked_until <= utcnow() + timedelta(minutes=15)
    assert locked.group(1) == "5"
    assert locked.group(2) == f"{dates.local(stored.locked_until):%H:%M}"

    # Locked: even the right password is refused, and the page says so again.
    response = login(client, user.login, PASSWORD)
    assert LOCKED.search(refusal(response))
    assert not signed_in(client)
    assert attempts(user.login)[-1].reason == "locked"

    # Another account keeps working.
    other_client = app.test_client()
    assert login(other_client, other.login, PASSWORD).status_code == 303
    assert signed_in(other_client)


def test_the_lock_ends_when_its_time_has_passed(app, people):
    user, _ = people
    client = app.test_client()
    for _ in range(5):
        login(client, user.login, WRONG)
    assert is_locked(user.login)
    end_lock(user.login)

    assert login(client, user.login, PASSWORD).status_code == 303
    assert signed_in(client)
    stored = counts(user.login)
    assert stored.attempts == 0
    assert stored.locked_until is None


def test_after_a_lock_one_more_failure_does_not_lock_again(app, people):
    user, _ = people
    client = app.test_client()
    for _ in range(5):
        login(client, user.login, WRONG)
    end_lock(user.login)
    assert refusal(login(client, user.login, WRONG)) == GENERIC
    assert not is_locked(user.login)
    assert counts(user.login).attempts == 1


def test_a_success_resets_the_count(app, people):
    user, _ = people
    client = app.test_client()
    for _ in range(4):
        login(client, user.login, WRONG)
    assert login(client, user.login, PASSWORD).status_code == 303
    assert counts(user.login).attempts == 0
    client = app.test_client()
    for _ in range(4):  # four more: five failures in all, but not in a row
        assert refusal(login(client, user.login, WRONG)) == GENERIC
    assert not is_locked(user.login)


class TestConfiguredLockout:
    @pytest.fixture
    def app_config(self):
        return {"LOGIN_MAX_FAILURES": 3, "LOGIN_LOCK_MINUTES": 60}

    def test_count_and_duration_come_from_the_configuration(self, app, people):
        user, _ = people
        client = app.test_client()
        for _ in range(2):
            assert refusal(login(client, user.login, WRONG)) == GENERIC
        locked = LOCKED.search(refusal(login(client, user.login, WRONG)))
        assert locked and locked.group(1) == "3"
        until = counts(user.login).locked_until
        assert utcnow() + timedelta(minutes=59) < until <= utcnow() + timedelta(minutes=60)
        page = text(app.test_client().get("/login"))
        assert "3회 잘못 입력하면 이 접속 위치에서의 로그인이 60분 동안 잠깁니다" in page


def test_deactivated_account_cannot_sign_in(app, make):
    user = make.user("liaison", active=False)
    db.session.commit()
    client = app.test_client()
    assert refusal(login(client, user.login, WRONG)) == GENERIC
    right = login(client, user.login, PASSWORD)
    assert refusal(right) == "사용이 중지된 계정입니다. 시스템 관리자에게 문의하세요."
    assert not signed_in(client)
    assert [a.reason for a in attempts(user.login)] == ["bad_password", "inactive"]


def test_every_attempt_is_recorded_and_logged_without_the_password(app, people, caplog):
    user, _ = people
    secret_wrong = "Never-log-me-31337!"
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    login(client, user.login, secret_wrong)
    login(client, "ghost", secret_wrong)
    login(client, user.login, PASSWORD)

    rows = [(a.login, a.success, a.reason, a.remote_addr)
            for a in db.session.scalars(select(LoginAttempt).order_by(LoginAttempt.id))]
    assert rows == [
        (user.login, False, "bad_password", "127.0.0.1"),
        ("ghost", False, "unknown_login", "127.0.0.1"),
        (user.login, True, None, "127.0.0.1"),
    ]
    assert all(a.at is not None for a in db.session.scalars(select(LoginAttempt)))
    logged = caplog.text
    assert "sign-in refused" in logged and "sign-in ok" in logged and user.login in logged
    assert secret_wrong not in logged
    assert PASSWORD not in logged
    # Nor in any stored column.
    for attempt in db.session.scalars(select(LoginAttempt)):
        assert secret_wrong not in " ".join(str(v) for v in vars(attempt).values())


def test_a_hash_made_with_weaker_parameters_is_upgraded_at_sign_in(app, people):
    user, _ = people
    user.password_hash = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(PASSWORD)
    db.session.commit()
    assert login(app.test_client(), user.login, PASSWORD).status_code == 303
    assert fresh(user).password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")


@pytest.mark.parametrize(("target", "expected"), [
    ("/account/password", "/account/password"),
    ("/admin/users?x=1", "/admin/users?x=1"),
    ("//evil.example/x", "/"),
    ("https://evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("/logout", "/"),
])
def test_next_only_leads_to_a_page_of_this_site(app, people, target, expected):
    user, _ = people
    response = login(app.test_client(), user.login, PASSWORD, next=target)
    assert response.status_code == 303
    assert response.location == expected


def test_a_protected_page_sends_to_login_and_back(app, people):
    user, _ = people
    client = app.test_client()
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")
    followed = client.get(response.location)
    assert "로그인이 필요합니다" in text(followed)
    assert login(client, user.login, PASSWORD, next="/account/password").location == "/account/password"


def test_signed_in_user_opening_login_is_sent_on(app, people):
    user, _ = people
    client = app.test_client()
    login(client, user.login, PASSWORD)
    response = client.get("/login")
    assert response.status_code == 302
    assert response.location == "/"


def test_empty_fields_get_korean_messages_and_record_nothing(app, people):
    client = app.test_client()
    token = find_csrf_token(text(client.get("/login")))
    response = client.post("/login", data={"csrf_token": token, "login": "", "password": ""})
    assert response.status_code == 200
    assert "아이디를 입력하세요." in text(response)
    assert "비밀번호를 입력하세요." in text(response)
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_login_without_csrf_token_is_refused_in_korean(app, people):
    user, _ = people
    client = app.test_client()
    client.get("/login")
    response = client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert response.status_code == 400
    assert "보안 토큰" in text(response)
    assert not signed_in(client)
    assert attempts(user.login) == []
    forged = client.post("/login", data={"login": user.login, "password": PASSWORD,
                                         "csrf_token": "forged"})
    assert forged.status_code == 400
    assert not signed_in(client)
