"""Password hashes (argon2id, stored parameters), the Korean public-sector rule, and the
change-own-password page with its messages next to the fields. CSRF is on."""

from __future__ import annotations

import re

import pytest
from argon2 import Type, extract_parameters

from auditflow import create_app
from auditflow.extensions import db
from auditflow.models import LoginAttempt, User
from auditflow.services import passwords
from auditflow.services.passwords import (
    GuessablePassword,
    PasswordTooLong,
    PersonalPassword,
    WeakPassword,
    check_composition,
    check_rule,
    hash_password,
    verify_password,
)
from tests.auth_helpers import login, post_form, signed_in
from tests.factories import PASSWORD

NEW_PASSWORD = "Brand-new-pass-42"
PRODUCTION_PREFIX = "$argon2id$v=19$m=65536,t=3,p=4$"
TESTING_PREFIX = "$argon2id$v=19$m=8,t=1,p=1$"


def text(response) -> str:
    return response.get_data(as_text=True)


def field_error(response, field: str) -> str:
    """The error shown right under a field (the form macro's ``<p id="{field}-error">``)."""
    found = re.search(rf'id="{field}-error">(.*?)</p>', text(response), re.S)
    return found.group(1).strip() if found else ""


# --- hashes ---------------------------------------------------------------------------------

@pytest.fixture
def production_app(tmp_path):
    """An application as production configures it (its own empty database)."""
    application = create_app({"AUDITFLOW_ENV": "production", "SECRET_KEY": "production-secret",
                              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'prod.db'}",
                              "STORAGE_DIR": str(tmp_path / "storage")})
    with application.app_context():
        db.create_all()
        yield application
        db.session.remove()
        db.engine.dispose()


def test_a_production_app_stores_argon2id_with_the_production_parameters(production_app):
    from auditflow.services import accounts

    user = accounts.create(login="hash-check", name="해시 확인", role="liaison", team=None,
                           password=NEW_PASSWORD)
    db.session.commit()
    stored = db.session.get(User, user.id).password_hash
    assert stored.startswith(PRODUCTION_PREFIX)
    assert NEW_PASSWORD not in stored
    parameters = extract_parameters(stored)
    assert parameters.type is Type.ID
    assert (parameters.memory_cost, parameters.time_cost, parameters.parallelism) == (65536, 3, 4)
    # At least OWASP's argon2id minimum (m=19 MiB, t=2, p=1).
    assert parameters.memory_cost >= 19 * 1024 and parameters.time_cost >= 2
    assert verify_password(stored, NEW_PASSWORD)


def test_the_parameters_are_settings(app_context, monkeypatch, tmp_path):
    assert hash_password("Some-pass-2025").startswith(TESTING_PREFIX)  # the suite's cheap ones
    monkeypatch.setenv("AUDITFLOW_PASSWORD_HASH_TIME_COST", "2")
    monkeypatch.setenv("AUDITFLOW_PASSWORD_HASH_MEMORY_KIB", "19456")
    configured = create_app({"AUDITFLOW_ENV": "testing", "SECRET_KEY": "x",
                             "SQLALCHEMY_DATABASE_URI": "sqlite://",
                             "STORAGE_DIR": str(tmp_path / "storage")})
    with configured.app_context():
        stored = hash_password("Some-pass-2025")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_a_hash_made_with_other_parameters_is_upgraded_at_sign_in(production_app):
    from auditflow.services import accounts, signin

    accounts.create(login="old-hash", name="옛 해시", role="liaison", team=None,
                    password=NEW_PASSWORD)
    db.session.commit()
    user = db.session.scalars(db.select(User).filter_by(login="old-hash")).one()
    cheap = passwords._hasher(1, 8, 1).hash(NEW_PASSWORD)
    user.password_hash = cheap
    db.session.commit()
    assert passwords.needs_rehash(cheap)
    signin.authenticate("old-hash", NEW_PASSWORD, "127.0.0.1")
    db.session.commit()
    assert db.session.get(User, user.id).password_hash.startswith(PRODUCTION_PREFIX)


def test_every_hash_is_salted_and_verifies_only_its_password(app_context):
    first, second = hash_password("Same-pass-2025"), hash_password("Same-pass-2025")
    assert first != second
    assert verify_password(first, "Same-pass-2025")
    assert not verify_password(first, "Same-pass-2026")
    assert not verify_password(None, "Same-pass-2025")
    assert not verify_password("not a hash", "Same-pass-2025")


# --- the rule -------------------------------------------------------------------------------

@pytest.mark.parametrize("password", [
    "abcdef12!",        # 9 characters, 3 kinds
    "abcdefgh12",       # 10 characters, letters and digits
    "abcdefgh!!",       # 10 characters, letters and symbols
    "12345678-_",       # 10 characters, digits and symbols
    "Pass word 2025!",  # spaces are allowed
    "abcd 12345",       # 10 characters counting the space, letters and digits
    "비밀번호Abc12345!",  # Hangul adds length; the kinds are there without it
])
def test_the_korean_rule_accepts(password):
    check_composition(password)


@pytest.mark.parametrize("password", [
    "abcdef12!", "abcdefgh12", "12345678-_", "abcd 12345",  # the Korean rule's own examples
    "Password1!", "P@ssw0rd2025", "Qwer1234!@", "qwerty12345", "Admin1234!",  # the lists
    "aaaaaaaa1!", "abc123abc123",  # repeats
    "iloveyou12!", "Dragon2025!",  # a common word and a year
])
def test_common_and_guessable_passwords_are_refused(password):
    check_composition(password)  # each would pass the kinds-and-length rule alone
    with pytest.raises(GuessablePassword) as refused:
        check_rule(password)
    assert refused.value.code == "password_guessable"
    assert "추측하기 쉬운 비밀번호" in refused.value.message


@pytest.mark.parametrize("password", [
    "Pass word 2025!", "비밀번호Abc12345!", NEW_PASSWORD, PASSWORD, "Tiger-maple-Ladle-81",
])
def test_the_whole_rule_accepts_unguessable_passwords(password):
    check_rule(password, login="hong.gildong", name="홍길동", email="gildong@seoul.go.kr")


@pytest.mark.parametrize("password", [
    "hong.gildong-2025!",   # the login
    "HONG.GILDONG#Rt82",    # in capitals
    "홍길동!Pass-7294",      # the name
    "홍 길동!Pass-7294",     # the name, spaced
    "Gildong@Korea-7294",   # the mailbox (the domain alone is no one's)
])
def test_the_users_own_login_name_or_mailbox_is_refused(password):
    check_composition(password)
    with pytest.raises(PersonalPassword) as refused:
        check_rule(password, login="hong.gildong", name="홍길동", email="gildong@seoul.go.kr")
    assert refused.value.code == "password_personal"


def test_parts_of_the_login_make_a_password_guessable():
    # Not the login itself, but its parts with a year: zxcvbn knows them as the user's words.
    check_rule("Gildong1998!", login="other")
    with pytest.raises(GuessablePassword):
        check_rule("Gildong1998!", login="hong.gildong")


@pytest.mark.parametrize("password", [
    "abcde12!",         # 8 characters, 3 kinds: too short
    "abcdefg12",        # 9 characters, only 2 kinds
    "abcdefghij",       # 10 letters: one kind
    "1234567890",       # 10 digits: one kind
    "가나다라마바사아자1",  # Hangul is not a symbol: one kind (digits)
    "abcd 1234",        # 9 characters, a space is not a symbol: two kinds
    "",
])
def test_rule_refuses(password):
    with pytest.raises(WeakPassword) as refused:
        check_rule(password)
    assert refused.value.code == "password_weak"
    assert "3종류 이상으로 9자 이상" in refused.value.message


def test_space_and_hangul_count_as_no_kind():
    assert passwords.kinds("가 나") == 0
    assert passwords.kinds("a1!") == 3
    with pytest.raises(WeakPassword):
        check_rule("한글 비밀번호 12")  # 10+ characters but only one kind (digits)


def test_overlong_passwords_are_refused():
    with pytest.raises(PasswordTooLong):
        check_rule("Aa1!" * 40)


def test_generated_passwords_meet_the_rule():
    for _ in range(50):
        check_rule(passwords.generate())


def test_a_very_long_password_is_judged_without_error():
    check_rule("Tiger-maple-Ladle-81 " * 6)  # past zxcvbn's 72 characters
    with pytest.raises(GuessablePassword):
        check_rule("Aa1!" * 30)


# --- change own password --------------------------------------------------------------------

@pytest.fixture
def user(make):
    person = make.user("audit")
    db.session.commit()
    return person


def change(client, current: str, new: str, confirm: str | None = None):
    return post_form(client, "/account/password", {
        "current_password": current, "new_password": new,
        "new_password_confirm": new if confirm is None else confirm})


def signed_in_client(app, who):
    client = app.test_client()
    assert login(client, who.login, PASSWORD).status_code == 303
    return client


def test_change_page_needs_sign_in(app):
    response = app.test_client().get("/account/password")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_change_password(app, user):
    client = signed_in_client(app, user)
    page = client.get("/account/password")
    assert "비밀번호 변경" in text(page)
    assert "3종류 이상으로 9자 이상" in text(page)  # the rule is shown before typing

    response = change(client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 303
    assert "비밀번호를 변경했습니다." in text(client.get(response.location))
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash.startswith(TESTING_PREFIX)
    assert login(app.test_client(), user.login, NEW_PASSWORD).status_code == 303
    assert login(app.test_client(), user.login, PASSWORD).status_code == 200


@pytest.mark.parametrize(("current", "new", "confirm", "field", "message"), [
    ("Not-my-pass-1", NEW_PASSWORD, None, "current_password", "현재 비밀번호가 올바르지 않습니다."),
    (PASSWORD, "short1!", None, "new_password", "3종류 이상으로 9자 이상"),
    (PASSWORD, "onlyletters", None, "new_password", "2종류 이상으로 10자 이상"),
    (PASSWORD, NEW_PASSWORD, "Something-else-1", "new_password_confirm", "새 비밀번호가 서로 다릅니다."),
    (PASSWORD, PASSWORD, None, "new_password", "현재 비밀번호와 다른 비밀번호"),
    ("", NEW_PASSWORD, None, "current_password", "현재 비밀번호를 입력하세요."),
])
def test_refusals_are_shown_next_to_their_field(app, user, current, new, confirm, field, message):
    client = signed_in_client(app, user)
    before = user.password_hash
    response = change(client, current, new, confirm)
    assert response.status_code == 200
    assert message in field_error(response, field)
    assert 'aria-invalid="true"' in text(response)
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == before
    assert signed_in(client)


def test_wrong_current_passwords_count_toward_the_lockout(app, user):
    client = signed_in_client(app, user)
    for _ in range(4):
        assert "현재 비밀번호가 올바르지 않습니다." in field_error(
            change(client, "Not-my-pass-1", NEW_PASSWORD), "current_password")
    locked = change(client, "Not-my-pass-1", NEW_PASSWORD)
    assert "로그인이 잠겼습니다" in field_error(locked, "current_password")
    # Locked: the right current password is refused too, and so is signing in again from
    # the same address (the lock is the login's from this address).
    assert "로그인이 잠겼습니다" in field_error(change(client, PASSWORD, NEW_PASSWORD),
                                          "current_password")
    assert "로그인이 잠겼습니다" in text(login(app.test_client(), user.login, PASSWORD))
    reasons = [a.reason for a in db.session.query(LoginAttempt).order_by(LoginAttempt.id)]
    assert reasons.count("bad_current_password") == 5
    assert "locked" in reasons


def test_change_without_csrf_token_is_refused(app, user):
    client = signed_in_client(app, user)
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert "보안 토큰" in text(response)
    assert login(app.test_client(), user.login, PASSWORD).status_code == 303


@pytest.mark.parametrize(("new", "message"), [
    ("Password1!", "추측하기 쉬운 비밀번호"),
    ("{login}!Xy-2741", "아이디·이름·메일 주소가 들어간 비밀번호"),
])
def test_the_own_password_page_applies_the_whole_rule(app, user, new, message):
    client = signed_in_client(app, user)
    before = user.password_hash
    response = change(client, PASSWORD, new.format(login=user.login))
    assert response.status_code == 200
    assert message in field_error(response, "new_password")
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == before
