"""The lockout holds under parallel guesses, locks the guesser's address and not the owner,
slows guessing from many addresses, and tells nothing about which logins exist.

CSRF is on; every sign-in goes through the form (tests/auth_helpers.py).
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from auditflow.extensions import db
from auditflow.models import EVERY_ADDRESS, LoginAttempt, LoginThrottle, utcnow
from auditflow.services import passwords
from tests.auth_helpers import find_csrf_token, login, logout, signed_in
from tests.factories import PASSWORD

WRONG = "Wrong-guess-77!"
GENERIC = "아이디 또는 비밀번호가 올바르지 않습니다."
LOCKED = re.compile(r"비밀번호를 5회 잘못 입력하여 이 접속 위치에서의 로그인이 잠겼습니다\.")
DELAYED = re.compile(r"로그인을 잠시 제한합니다\. (\d+)초 후에 다시 시도하세요\.")


@pytest.fixture
def app_config():
    # The per-address limit of sign-in posts is tested on its own below.
    return {"LOGIN_RATE_LIMIT": "1000 per minute"}


def text(response) -> str:
    return response.get_data(as_text=True)


def refusal(response) -> str:
    found = re.search(r'id="login-refusal"><p>(.*?)</p>', text(response), re.S)
    return found.group(1) if found else ""


def reasons(login_name: str) -> list[str | None]:
    db.session.expire_all()
    return list(db.session.scalars(select(LoginAttempt.reason).where(
        LoginAttempt.login == login_name).order_by(LoginAttempt.id)))


def counts(login_name: str, address: str) -> LoginThrottle | None:
    db.session.expire_all()
    return db.session.scalars(select(LoginThrottle).where(
        LoginThrottle.login == login_name, LoginThrottle.remote_addr == address)).first()


def from_address(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


@pytest.fixture
def owner(make):
    user = make.user("audit")
    db.session.commit()
    return user


def test_twenty_parallel_guesses_get_five_checks_and_then_the_lock(app, owner):
    name = owner.login
    clients = [app.test_client() for _ in range(20)]
    tokens = [find_csrf_token(text(client.get("/login"))) for client in clients]
    barrier = threading.Barrier(len(clients), timeout=60)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def guess(client, token: str) -> None:
        barrier.wait()
        response = client.post("/login", data={"csrf_token": token, "login": name,
                                               "password": WRONG})
        with lock:
            answers.append((response.status_code, refusal(response)))

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens,
                                                                          strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(answers) == 20
    assert {status for status, _ in answers} == {200}
    # Only five were checked against the hash; the other fifteen met the lock.
    checked = reasons(owner.login)
    assert checked.count("bad_password") == 5
    assert checked.count("locked") == 15
    assert sum(1 for _, message in answers if message == GENERIC) == 4
    assert sum(1 for _, message in answers if LOCKED.search(message)) == 16
    assert counts(owner.login, "127.0.0.1").attempts == 5

    # The right password after them is refused while the lock lasts.
    client = app.test_client()
    assert LOCKED.search(refusal(login(client, owner.login, PASSWORD)))
    assert not signed_in(client)
    assert reasons(owner.login)[-1] == "locked"


def test_a_guesser_elsewhere_cannot_lock_the_owner_out(app, owner):
    home = from_address(app, "10.0.0.1")
    assert login(home, owner.login, PASSWORD).status_code == 303  # the owner's own address
    logout(home)

    for address in ("10.6.6.1", "10.6.6.2", "10.6.6.3"):
        guesser = from_address(app, address)
        answers = [refusal(login(guesser, owner.login, WRONG)) for _ in range(6)]
        assert all(answer == GENERIC or LOCKED.search(answer) or DELAYED.search(answer)
                   for answer in answers), answers
        assert any(LOCKED.search(answer) or DELAYED.search(answer) for answer in answers)
    assert counts(owner.login, "10.6.6.1").locked_until > utcnow()

    # The owner, at their own address, still signs in with the right password.
    assert login(home, owner.login, PASSWORD).status_code == 303
    assert signed_in(home)
    assert counts(owner.login, "10.0.0.1").signed_in_at is not None
    # ... which clears the login's count from every address, not the guessers' locks.
    assert counts(owner.login, EVERY_ADDRESS).attempts == 0
    assert counts(owner.login, "10.6.6.1").locked_until > utcnow()


@pytest.mark.parametrize("known", [True, False], ids=["real-login", "unknown-login"])
def test_guesses_from_many_addresses_wait_a_growing_delay(app, owner, known):
    target = owner.login if known else "nobody-at-all"
    for number in range(1, 6):  # five addresses, one wrong password each: no delay yet
        assert refusal(login(from_address(app, f"10.1.0.{number}"), target, WRONG)) == GENERIC
    assert refusal(login(from_address(app, "10.1.0.6"), target, WRONG)) == GENERIC
    every = counts(target, EVERY_ADDRESS)
    assert every.attempts == 6
    assert (every.locked_until - every.updated_at) == timedelta(seconds=1)

    # While the delay runs, another address is refused without a check, in the same words
    # for a real login and an unknown one.
    delayed = refusal(login(from_address(app, "10.1.0.7"), target, WRONG))
    assert DELAYED.search(delayed)
    assert reasons(target)[-1] == "delayed"
    assert counts(target, EVERY_ADDRESS).attempts == 6
    assert counts(target, "10.1.0.7") is None or counts(target, "10.1.0.7").attempts == 0

    # Once it has passed, the next check is let through and the delay doubles.
    every.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert refusal(login(from_address(app, "10.1.0.8"), target, WRONG)) == GENERIC
    every = counts(target, EVERY_ADDRESS)
    assert (every.locked_until - every.updated_at) == timedelta(seconds=2)


def test_the_delay_has_a_ceiling(app, owner):
    app.config["LOGIN_DELAY_MAX_SECONDS"] = 5
    every = LoginThrottle(login=owner.login, remote_addr=EVERY_ADDRESS, attempts=40)
    db.session.add(every)
    db.session.commit()
    assert refusal(login(from_address(app, "10.2.0.1"), owner.login, WRONG)) == GENERIC
    every = counts(owner.login, EVERY_ADDRESS)
    assert (every.locked_until - every.updated_at) == timedelta(seconds=5)


def test_a_success_clears_the_pair_and_the_login(app, owner):
    client = from_address(app, "10.3.0.1")
    for _ in range(4):
        assert refusal(login(client, owner.login, WRONG)) == GENERIC
    assert counts(owner.login, "10.3.0.1").attempts == 4
    assert login(client, owner.login, PASSWORD).status_code == 303
    assert counts(owner.login, "10.3.0.1").attempts == 0
    assert counts(owner.login, EVERY_ADDRESS).attempts == 0


class TestSignInPostsPerAddress:
    @pytest.fixture
    def app_config(self):
        return {"LOGIN_RATE_LIMIT": "3 per minute"}

    def test_above_the_limit_the_answer_is_429_in_korean(self, app, owner):
        client = from_address(app, "10.4.0.1")
        for _ in range(3):
            assert refusal(login(client, owner.login, WRONG)) == GENERIC
        token = find_csrf_token(text(client.get("/login")))
        limited = client.post("/login", data={"csrf_token": token, "login": owner.login,
                                              "password": PASSWORD})
        assert limited.status_code == 429
        assert "요청이 너무 많습니다. 잠시 후 다시 시도하세요." in text(limited)
        assert int(limited.headers["Retry-After"]) >= 1
        assert not signed_in(client)
        assert reasons(owner.login).count(None) == 0  # nothing was checked
        # Another address is counted on its own; the page itself still opens.
        assert client.get("/login").status_code == 200
        assert login(from_address(app, "10.4.0.2"), owner.login, PASSWORD).status_code == 303


class TestPasswordChecksAtOnce:
    @pytest.fixture
    def app_config(self):
        return {"PASSWORD_HASH_CONCURRENCY": 1, "PASSWORD_HASH_WAIT_SECONDS": 0.2}

    def test_a_sign_in_that_finds_every_slot_taken_gets_429(self, app, owner):
        client = app.test_client()
        token = find_csrf_token(text(client.get("/login")))
        with app.app_context(), passwords.hashing_slot():  # another sign-in is being checked
            busy = client.post("/login", data={"csrf_token": token, "login": owner.login,
                                               "password": PASSWORD})
        assert busy.status_code == 429
        assert "로그인 요청이 많아 지금은 처리할 수 없습니다" in text(busy)
        assert not signed_in(client)
        assert counts(owner.login, "127.0.0.1") is None  # not counted: never checked
        assert login(client, owner.login, PASSWORD).status_code == 303


def test_without_a_proxy_a_forwarded_address_is_ignored(app, owner):
    client = app.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
    assert refusal(login(client, owner.login, WRONG)) == GENERIC
    assert counts(owner.login, "127.0.0.1").attempts == 1
    assert counts(owner.login, "203.0.113.9") is None


class TestBehindAProxy:
    @pytest.fixture
    def app_config(self):
        return {"PROXY_HOPS": 1, "LOGIN_RATE_LIMIT": "1000 per minute"}

    def test_the_address_the_proxy_passes_on_is_counted(self, app, owner):
        client = app.test_client()
        client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
        assert refusal(login(client, owner.login, WRONG)) == GENERIC
        assert counts(owner.login, "203.0.113.9").attempts == 1
        assert counts(owner.login, "127.0.0.1") is None


def test_idle_counts_are_forgotten_but_not_locks_nor_the_owners_addresses(app, owner):
    from auditflow import jobs

    long_ago = utcnow() - timedelta(days=2)
    db.session.add_all([
        LoginThrottle(login="guessed-name", remote_addr="10.5.0.1", attempts=1,
                      updated_at=long_ago),
        LoginThrottle(login=owner.login, remote_addr="10.5.0.2", attempts=0,
                      signed_in_at=long_ago, updated_at=long_ago),
        LoginThrottle(login=owner.login, remote_addr="10.5.0.3", attempts=5,
                      locked_until=utcnow() + timedelta(minutes=5), updated_at=long_ago),
        LoginThrottle(login="recent-guess", remote_addr="10.5.0.4", attempts=1),
    ])
    db.session.commit()
    with app.app_context():
        assert jobs.sweep_logins() == 1
    db.session.expire_all()
    left = {(row.login, row.remote_addr) for row in db.session.scalars(select(LoginThrottle))}
    assert left == {(owner.login, "10.5.0.2"), (owner.login, "10.5.0.3"),
                    ("recent-guess", "10.5.0.4")}


def test_a_limiter_whose_storage_is_down_does_not_stop_sign_in(app, owner, monkeypatch):
    from auditflow.http import throttle

    class Down:
        def hit(self, *_args):
            raise ConnectionError("redis is down")

    monkeypatch.setattr(throttle, "limiter", lambda: type("L", (), {"limiter": Down()})())
    client = app.test_client()
    assert login(client, owner.login, PASSWORD).status_code == 303
    assert signed_in(client)
