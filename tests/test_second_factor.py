"""The second factor (TOTP and recovery codes) and 본인 확인, with CSRF on.

The server's clock is held still (``clock``), so a code of "this step" or "the next
step" means the same thing to the test and to the server, whatever the real time.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from auditflow import create_app
from auditflow.extensions import db
from auditflow.models import LoginAttempt, RecoveryCode, ReportJob, User
from auditflow.permissions import needs_second_factor
from auditflow.services import second_factor
from auditflow.vocabulary import Role
from tests.auth_helpers import csrf_token, find_csrf_token, login, post_form, signed_in
from tests.factories import PASSWORD


def _start() -> datetime:
    """10 s into a 30 s step a little ahead of the real now: after every real sign-in time
    the test makes (본인 확인 counts from it), and far from a step's edge."""
    seconds = int(datetime.now(UTC).timestamp()) // 30 * 30 + 60 + 10
    return datetime.fromtimestamp(seconds, UTC)


def text(response) -> str:
    return response.get_data(as_text=True)


def field_error(response, field: str) -> str:
    found = re.search(rf'id="{field}-error">(.*?)</p>', text(response), re.S)
    return found.group(1).strip() if found else ""


def reload(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


class Clock:
    """The server's now for the second factor, the pending sign-in and 본인 확인."""

    def __init__(self) -> None:
        self.now = _start()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    held = Clock()
    for module in ("auditflow.services.second_factor", "auditflow.web.auth.pending",
                   "auditflow.http.reauth"):
        monkeypatch.setattr(f"{module}.utcnow", held)
    return held


@pytest.fixture
def required(app):
    app.config["REQUIRE_SECOND_FACTOR"] = True
    return app


def code(user: User, clock: Clock, steps: int = 0) -> str:
    """The app's code at the server's now, or ``steps`` steps later or earlier."""
    return pyotp.TOTP(reload(user).totp_secret).at(clock.now, counter_offset=steps)


def enrolled(make, clock: Clock, role: str = "audit") -> tuple[User, list[str]]:
    """A user with an authenticator app enrolled (its first code at the step before now)."""
    user = make.user(role)
    second_factor.begin_enrolment(user)
    previous = pyotp.TOTP(user.totp_secret).at(clock.now, counter_offset=-1)
    codes = second_factor.confirm_enrolment(user, previous, "127.0.0.1")
    db.session.commit()
    return user, codes


def second_step(client, given: str, *, recovery: bool = False):
    field = "recovery_code" if recovery else "code"
    return post_form(client, "/login/code", {field: given})


# --- who must have one --------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "must"), [
    (Role.ADMIN, True), (Role.AUDIT, True), (Role.DEPARTMENT, False), (Role.LIAISON, False),
])
def test_who_needs_a_second_factor_follows_from_their_capabilities(role, must):
    assert needs_second_factor(role.value) is must


def test_the_setting_is_on_in_production_and_off_elsewhere(tmp_path, monkeypatch):
    def made(env: str, **extra):
        return create_app({"AUDITFLOW_ENV": env, "SECRET_KEY": "x",
                           "SQLALCHEMY_DATABASE_URI": "sqlite://",
                           "STORAGE_DIR": str(tmp_path / "storage"), **extra}).config

    assert made("production")["REQUIRE_SECOND_FACTOR"] is True
    assert made("development")["REQUIRE_SECOND_FACTOR"] is False
    assert made("testing")["REQUIRE_SECOND_FACTOR"] is False
    monkeypatch.setenv("AUDITFLOW_REQUIRE_SECOND_FACTOR", "off")
    assert made("production")["REQUIRE_SECOND_FACTOR"] is False
    monkeypatch.setenv("AUDITFLOW_REQUIRE_SECOND_FACTOR", "on")
    assert made("development")["REQUIRE_SECOND_FACTOR"] is True


def test_with_the_setting_off_nobody_without_an_app_is_asked(app, make, clock):
    admin = make.user("admin")
    db.session.commit()
    client = app.test_client()
    response = login(client, admin.login, PASSWORD)
    assert response.status_code == 303 and response.location == "/"
    assert signed_in(client)


@pytest.mark.parametrize("role", ["department", "liaison"])
def test_with_the_setting_on_other_roles_sign_in_with_the_password(app, required, make, clock,
                                                                    role):
    user = make.user(role)
    db.session.commit()
    client = app.test_client()
    assert login(client, user.login, PASSWORD).location == "/"
    assert signed_in(client)


# --- enrolment --------------------------------------------------------------------------------

def test_a_user_who_must_have_one_enrols_before_being_signed_in(app, required, make, clock):
    admin = make.user("admin")
    db.session.commit()
    client = app.test_client()
    response = login(client, admin.login, PASSWORD, next="/admin/users")
    assert response.status_code == 303
    assert response.location == "/login/enrol"
    assert not signed_in(client)

    page = client.get("/login/enrol")
    html = text(page)
    assert page.status_code == 200
    assert 'src="data:image/png;base64,' in html  # the QR code, drawn here
    secret = reload(admin).totp_secret
    assert secret and " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in html
    assert reload(admin).totp_confirmed_at is None  # not in use until a code confirms it
    # A reload shows the same secret: an app that scanned it still works.
    assert secret in text(client.get("/login/enrol")).replace(" ", "")
    assert 'autocomplete="one-time-code"' in html and 'inputmode="numeric"' in html

    wrong = post_form(client, "/login/enrol", {"code": "000000"})
    assert "인증 코드가 올바르지 않습니다" in field_error(wrong, "code")
    assert reload(admin).totp_confirmed_at is None
    assert not signed_in(client)

    done = post_form(client, "/login/enrol", {"code": code(admin, clock)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", text(done))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert 'download="auditflow-recovery-codes.txt"' in text(done)
    assert 'href="/admin/users"' in text(done)  # then on to where the sign-in was going
    assert signed_in(client)
    # The page was drawn in the request that signed in: its form tokens are the new session's.
    token = find_csrf_token(text(done))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert not signed_in(client)
    user = reload(admin)
    assert user.has_second_factor
    stored = db.session.scalars(select(RecoveryCode.code_hash)
                                .where(RecoveryCode.user_id == admin.id)).all()
    assert len(stored) == 10
    for given in codes:
        assert given not in stored and given.replace("-", "") not in stored  # only hashes


def test_the_sign_in_step_expires(app, required, make, clock):
    admin = make.user("admin")
    db.session.commit()
    client = app.test_client()
    login(client, admin.login, PASSWORD)
    clock.advance(minutes=6)
    response = client.get("/login/enrol")
    assert response.status_code == 303 and response.location == "/login"
    assert "로그인 시간이 지났습니다" in text(client.get("/login"))


def test_the_second_step_cannot_be_opened_without_the_password(app, required, make, clock):
    enrolled(make, clock)
    client = app.test_client()
    for path in ("/login/code", "/login/enrol"):
        response = client.get(path)
        assert response.status_code == 303 and response.location == "/login", path


def test_anyone_may_enrol_from_their_account_and_is_asked_from_then_on(app, make, clock):
    worker = make.user("department")
    db.session.commit()
    client = app.test_client()
    login(client, worker.login, PASSWORD)
    assert "등록 안 함" in text(client.get("/account/second-factor"))
    page = client.get("/account/second-factor/enrol")
    assert page.status_code == 200 and "data:image/png;base64," in text(page)
    done = post_form(client, "/account/second-factor/enrol", {"code": code(worker, clock)})
    assert len(re.findall(r"<li><code>", text(done))) == 10
    assert "사용 중" in text(client.get("/account/second-factor"))

    fresh = app.test_client()
    assert login(fresh, worker.login, PASSWORD).location == "/login/code"
    assert second_step(fresh, code(worker, clock, 1)).location == "/"
    assert signed_in(fresh)


# --- signing in with a code -----------------------------------------------------------------

def test_an_enrolled_user_gives_the_code_after_the_password(app, make, clock):
    user, _ = enrolled(make, clock)
    client = app.test_client()
    response = login(client, user.login, PASSWORD, next="/summary")
    assert response.location == "/login/code"
    assert not signed_in(client)
    page = text(client.get("/login/code"))
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page
    assert "인증 코드 (6자리 숫자)" in page

    wrong = second_step(client, "123456" if code(user, clock) != "123456" else "654321")
    assert wrong.status_code == 200
    assert "인증 코드가 올바르지 않습니다" in text(wrong)
    assert not signed_in(client)

    right = second_step(client, code(user, clock))
    assert right.status_code == 303 and right.location == "/summary"
    assert signed_in(client)
    reasons = [a.reason for a in db.session.scalars(select(LoginAttempt)
                                                    .order_by(LoginAttempt.id))]
    assert reasons[-2:] == ["bad_second_factor", "second_factor_totp"]


def test_a_code_is_accepted_once(app, make, clock):
    user, _ = enrolled(make, clock)
    first = app.test_client()
    login(first, user.login, PASSWORD)
    given = code(user, clock)
    assert second_step(first, given).status_code == 303

    again = app.test_client()
    login(again, user.login, PASSWORD)
    replayed = second_step(again, given)
    assert "이미 사용한 인증 코드입니다" in text(replayed)
    assert not signed_in(again)
    # Nor an older one still inside the window.
    assert "이미 사용한" in text(second_step(again, code(user, clock, -1)))
    clock.advance(seconds=30)
    assert second_step(again, code(user, clock)).status_code == 303


def test_codes_of_a_step_too_far_are_refused(app, make, clock):
    user, _ = enrolled(make, clock)
    client = app.test_client()
    login(client, user.login, PASSWORD)
    assert "올바르지 않습니다" in text(second_step(client, code(user, clock, 2)))
    assert second_step(client, code(user, clock, 1)).status_code == 303  # a clock a step ahead


def test_wrong_codes_lock_the_account(app, make, clock):
    user, _ = enrolled(make, clock)
    client = app.test_client()
    login(client, user.login, PASSWORD)
    right = code(user, clock)
    wrong = "111111" if right != "111111" else "222222"
    for _ in range(4):
        assert "올바르지 않습니다" in text(second_step(client, wrong))
    assert "계정이 잠겼습니다" in text(second_step(client, wrong))
    assert "계정이 잠겼습니다" in text(second_step(client, right))  # locked: even the right one
    assert not signed_in(client)
    assert reload(user).totp_locked_until is not None


def test_the_right_password_does_not_buy_more_guesses_at_the_code(app, make, clock):
    user, _ = enrolled(make, clock)
    wrong = "111111" if code(user, clock) != "111111" else "222222"
    for attempt in range(5):
        client = app.test_client()
        assert login(client, user.login, PASSWORD).location == "/login/code"  # count reset
        refused = text(second_step(client, wrong))
        if attempt < 4:
            assert "올바르지 않습니다" in refused
    assert "계정이 잠겼습니다" in refused
    assert "계정이 잠겼습니다" in text(login(app.test_client(), user.login, PASSWORD))


def test_a_recovery_code_signs_in_once(app, make, clock):
    user, codes = enrolled(make, clock)
    client = app.test_client()
    login(client, user.login, PASSWORD)
    response = second_step(client, codes[3].upper(), recovery=True)  # capitals are fine
    assert response.status_code == 303
    assert "남은 복구 코드는 9개입니다" in text(client.get(response.location))
    assert second_factor.recovery_codes_left(reload(user)) == 9

    again = app.test_client()
    login(again, user.login, PASSWORD)
    assert "올바르지 않습니다" in text(second_step(again, codes[3], recovery=True))
    assert not signed_in(again)
    assert second_step(again, codes[4].replace("-", ""), recovery=True).status_code == 303


def test_new_recovery_codes_replace_the_old_ones(app, make, clock):
    user, old = enrolled(make, clock, "department")
    client = app.test_client()
    login(client, user.login, PASSWORD)
    second_step(client, code(user, clock))
    response = post_form(client, "/account/second-factor/recovery-codes",
                         token_from="/account/second-factor")
    new = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", text(response))
    assert len(new) == 10 and not set(new) & set(old)

    fresh = app.test_client()
    login(fresh, user.login, PASSWORD)
    assert "올바르지 않습니다" in text(second_step(fresh, old[0], recovery=True))
    assert second_step(fresh, new[0], recovery=True).status_code == 303


def test_a_signed_in_user_who_must_enrol_is_sent_to_enrolment(app, make, clock):
    auditor = make.user("audit")
    db.session.commit()
    client = app.test_client()
    login(client, auditor.login, PASSWORD)  # the setting is off: signed in with the password
    app.config["REQUIRE_SECOND_FACTOR"] = True
    response = client.get("/summary")
    assert response.status_code == 303 and response.location == "/account/second-factor/enrol"
    assert client.get("/account/second-factor/enrol").status_code == 200
    api = client.get("/api/v1/audits")
    assert api.status_code == 403 and api.get_json()["code"] == "second_factor_required"


# --- reset by another administrator ------------------------------------------------------------

def test_an_admin_resets_another_users_second_factor_and_it_is_recorded(app, required, make,
                                                                         clock, caplog):
    user, codes = enrolled(make, clock, "audit")
    admin, _ = enrolled(make, clock, "admin")
    victim = app.test_client()
    login(victim, user.login, PASSWORD)
    second_step(victim, code(user, clock))
    boss = app.test_client()
    login(boss, admin.login, PASSWORD)
    second_step(boss, code(admin, clock, 1))

    users_page = text(boss.get("/admin/users"))
    assert f"/admin/users/{user.id}/second-factor" in users_page
    unconfirmed = post_form(boss, f"/admin/users/{user.id}/second-factor", {})
    assert "확인란을 선택해야" in text(unconfirmed)
    assert reload(user).has_second_factor
    with caplog.at_level(logging.INFO, logger="auditflow.auth"):
        response = post_form(boss, f"/admin/users/{user.id}/second-factor", {"confirm": "y"})
    assert response.status_code == 303
    assert "2단계 인증을 초기화했습니다" in text(boss.get(response.location))
    assert any("second_factor_reset" in r.getMessage() and admin.login in r.getMessage()
               and user.login in r.getMessage() for r in caplog.records)
    reset = reload(user)
    assert reset.totp_secret is None and not reset.has_second_factor
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode)
                             .where(RecoveryCode.user_id == user.id)) == 0
    assert not signed_in(victim)  # the sessions of the lost phone's owner ended
    assert login(app.test_client(), user.login, PASSWORD).location == "/login/enrol"


def test_nobody_resets_their_own_second_factor_and_others_may_not_at_all(app, make, clock):
    admin, _ = enrolled(make, clock, "admin")
    auditor, _ = enrolled(make, clock, "audit")
    boss = app.test_client()
    login(boss, admin.login, PASSWORD)
    second_step(boss, code(admin, clock, 1))
    own = post_form(boss, f"/admin/users/{admin.id}/second-factor", {"confirm": "y"},
                    token_from="/admin/users")
    assert own.status_code == 200 and "2단계 인증 초기화는 할 수 없습니다" in text(own)
    assert reload(admin).has_second_factor

    other = app.test_client()
    login(other, auditor.login, PASSWORD)
    second_step(other, code(auditor, clock, 1))
    response = post_form(other, f"/admin/users/{admin.id}/second-factor", {"confirm": "y"},
                         token_from="/account/second-factor")
    assert response.status_code == 403
    assert reload(admin).has_second_factor


def test_the_cli_resets_a_second_factor(app, make, clock):
    admin, _ = enrolled(make, clock, "admin")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["user", "reset-second-factor", admin.login.upper()])
    assert result.exit_code == 0, result.output
    assert "2단계 인증 초기화" in result.output
    assert not reload(admin).has_second_factor
    missing = runner.invoke(args=["user", "reset-second-factor", "nobody"])
    assert missing.exit_code == 1 and "[user_not_found]" in missing.output


# --- 본인 확인 ----------------------------------------------------------------------------------

def test_user_administration_asks_for_the_password_again_after_a_while(app, make, clock):
    admin = make.user("admin")
    db.session.commit()
    client = app.test_client()
    login(client, admin.login, PASSWORD)
    assert client.get("/admin/users").status_code == 200  # just signed in: confirmed
    clock.advance(minutes=11)
    response = client.get("/admin/users/new")
    assert response.status_code == 303
    assert response.location == "/account/confirm?next=/admin/users/new"
    page = client.get(response.location)
    assert "본인 확인" in text(page)

    wrong = post_form(client, response.location, {"password": "Not-my-pass-1"})
    assert "현재 비밀번호가 올바르지 않습니다" in field_error(wrong, "password")
    assert client.get("/admin/users/new").status_code == 303
    right = post_form(client, response.location, {"password": PASSWORD})
    assert right.status_code == 303 and right.location == "/admin/users/new"
    assert client.get("/admin/users/new").status_code == 200
    reasons = [a.reason for a in db.session.scalars(select(LoginAttempt)
                                                    .order_by(LoginAttempt.id))]
    assert reasons[-2:] == ["bad_current_password", "reauthenticated"]


def test_a_stale_post_changes_nothing_and_comes_back_after_the_confirmation(app, make, clock):
    admin = make.user("admin")
    other = make.user("liaison")
    db.session.commit()
    client = app.test_client()
    login(client, admin.login, PASSWORD)
    token = csrf_token(client, f"/admin/users/{other.id}/active")
    clock.advance(minutes=11)
    response = client.post(f"/admin/users/{other.id}/active", data={
        "csrf_token": token, "confirm": "y"},
        headers={"Referer": f"http://localhost/admin/users/{other.id}/active"})
    assert response.status_code == 303
    assert response.location == f"/account/confirm?next=/admin/users/{other.id}/active"
    assert reload(other).active


def test_confirming_an_enrolled_user_takes_the_code_too(app, make, clock):
    admin, _ = enrolled(make, clock, "admin")
    client = app.test_client()
    login(client, admin.login, PASSWORD)
    second_step(client, code(admin, clock))
    clock.advance(minutes=11)
    path = "/account/confirm?next=/admin/users"
    without = post_form(client, path, {"password": PASSWORD})
    assert "6자리 숫자나 복구 코드를 입력하세요" in field_error(without, "code")
    stale = post_form(client, path, {"password": PASSWORD, "code": code(admin, clock, -3)})
    assert "올바르지 않습니다" in field_error(stale, "code")
    done = post_form(client, path, {"password": PASSWORD, "code": code(admin, clock)})
    assert done.status_code == 303 and done.location == "/admin/users"
    assert client.get("/admin/users").status_code == 200


def test_the_confirmation_goes_back_only_to_this_site(app, make, clock):
    admin = make.user("admin")
    db.session.commit()
    client = app.test_client()
    login(client, admin.login, PASSWORD)
    response = post_form(client, "/account/confirm?next=//evil.example/x", {"password": PASSWORD})
    assert response.status_code == 303 and response.location == "/"


def test_issuing_asks_for_the_password_again_after_a_while(app, make, clock):
    auditor = make.user("audit")
    audit = make.audit()
    db.session.commit()
    client = app.test_client()
    login(client, auditor.login, PASSWORD)
    page = f"/summary?audit={audit.id}"
    token = csrf_token(client, page)
    clock.advance(minutes=11)
    response = client.post(f"/summary/{audit.id}/issue", data={
        "csrf_token": token, "as_of": "2026-01-31", "due_changes": "1"},
        headers={"Referer": f"http://localhost{page}"})
    assert response.status_code == 303
    assert response.location.startswith("/account/confirm?next=/summary")
    assert db.session.scalar(select(func.count()).select_from(ReportJob)) == 0
