"""User administration pages: admin only, every change a POST with CSRF, Korean refusals
next to their field, and the database unchanged whenever something is refused."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from auditflow.extensions import db
from auditflow.models import LoginThrottle, User, UserSession, utcnow
from tests.auth_helpers import csrf_token, login, post_form, signed_in
from tests.factories import PASSWORD

NEW_PASSWORD = "Brand-new-pass-42"


def text(response) -> str:
    return response.get_data(as_text=True)


def field_error(response, field: str) -> str:
    found = re.search(rf'id="{field}-error">(.*?)</p>', text(response), re.S)
    return found.group(1).strip() if found else ""


def snapshot() -> list[tuple]:
    """Everything about every user, to compare before and after a refused request."""
    db.session.expire_all()
    return [(u.id, u.login, u.name, u.role, u.team_id, u.active, u.password_hash,
             locked_until(u.login), live_session_count(u))
            for u in db.session.scalars(select(User).order_by(User.id))]


def live_session_count(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)))


def locked_until(login_name: str):
    """The end of the latest lock of this login from any address, if one runs now."""
    db.session.expire_all()
    return db.session.scalar(select(func.max(LoginThrottle.locked_until)).where(
        LoginThrottle.login == login_name, LoginThrottle.locked_until > utcnow()))


def lock(login_name: str, address: str = "10.9.8.7") -> None:
    db.session.add(LoginThrottle(login=login_name, remote_addr=address, attempts=5,
                                 locked_until=utcnow() + timedelta(minutes=10)))


def reload(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


@pytest.fixture
def org(make):
    division = make.team(name="테스트본부", kind="division")
    team = make.team(name="가나팀", parent=division)
    task_force = make.team(name="다라TF", kind="task_force")
    admin = make.user("admin")
    people = {
        "audit": make.user("audit"),
        "department": make.user("department", team=team),
        "liaison": make.user("liaison"),
    }
    db.session.commit()
    return {"division": division, "team": team, "tf": task_force, "admin": admin, **people}


@pytest.fixture
def boss(app, org):
    client = app.test_client()
    assert login(client, org["admin"].login, PASSWORD).status_code == 303
    return client


def routes(org) -> list[tuple[str, str]]:
    target = org["liaison"].id
    return [
        ("GET", "/admin/users"),
        ("GET", "/admin/users/new"),
        ("POST", "/admin/users/new"),
        ("GET", f"/admin/users/{target}/edit"),
        ("POST", f"/admin/users/{target}/edit"),
        ("GET", f"/admin/users/{target}/password"),
        ("POST", f"/admin/users/{target}/password"),
        ("GET", f"/admin/users/{target}/active"),
        ("POST", f"/admin/users/{target}/active"),
        ("POST", f"/admin/users/{target}/unlock"),
    ]


POST_DATA = {"login": "intruder", "name": "침입자", "role": "admin", "team": "",
             "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD, "confirm": "y"}


@pytest.mark.parametrize("role", ["audit", "department", "liaison"])
def test_every_admin_page_is_forbidden_to_other_roles(app, org, role):
    client = app.test_client()
    assert login(client, org[role].login, PASSWORD).status_code == 303
    token = csrf_token(client, "/account/password")  # a valid token: only the role is wrong
    before = snapshot()
    for method, path in routes(org):
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data={**POST_DATA, "csrf_token": token})
        assert response.status_code == 403, (role, method, path)
        assert "권한" in text(response)
    assert snapshot() == before


def test_signed_out_visitors_are_sent_to_login(app, org):
    client = app.test_client()
    token = csrf_token(client, "/login")
    before = snapshot()
    for method, path in routes(org):
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data={**POST_DATA, "csrf_token": token})
        assert response.status_code == 302, (method, path)
        assert response.location.startswith("/login"), (method, path)
    assert snapshot() == before


def test_admin_posts_without_csrf_token_are_refused(app, org, boss):
    before = snapshot()
    for method, path in routes(org):
        if method == "POST":
            response = boss.post(path, data=POST_DATA)
            assert response.status_code == 400, path
            assert "보안 토큰" in text(response)
    assert snapshot() == before


def test_user_list_shows_who_is_who(app, org, boss):
    lock(org["audit"].login)
    org["liaison"].active = False
    db.session.commit()
    page = text(boss.get("/admin/users"))
    for key in ("admin", "audit", "department", "liaison"):
        assert org[key].login in page
    for label in ("시스템 관리자", "감사팀", "부서 담당자", "의회 담당관"):
        assert label in page
    assert "가나팀" in page
    assert "사용 중지" in page
    assert "잠김" in page


def test_user_text_is_escaped(app, org, boss):
    org["liaison"].name = "<script>alert(1)</script>"
    db.session.commit()
    page = text(boss.get("/admin/users"))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- create -----------------------------------------------------------------------------------

def create(boss, **fields):
    data = {"login": "new-user", "name": "새 사용자", "role": "department", "team": "",
            "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD, **fields}
    return post_form(boss, "/admin/users/new", data)


def test_create_a_department_user(app, org, boss):
    page = text(boss.get("/admin/users/new"))
    for label in ("시스템 관리자", "감사팀", "부서 담당자", "의회 담당관", "가나팀", "다라TF"):
        assert label in page
    assert "테스트본부</option>" not in page  # a division is not offered

    response = create(boss, login="New-User", team=org["team"].code)
    assert response.status_code == 303
    assert response.location == "/admin/users"
    user = db.session.scalars(select(User).where(User.login == "new-user")).one()
    assert (user.name, user.role, user.team_id, user.active) == (
        "새 사용자", "department", org["team"].id, True)
    assert user.password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert "사용자 &#39;new-user&#39;을(를) 등록했습니다." in text(boss.get("/admin/users"))
    assert login(app.test_client(), "new-user", NEW_PASSWORD).status_code == 303


def test_create_a_task_force_member_and_a_liaison_without_team(app, org, boss):
    assert create(boss, login="tf-member", team=org["tf"].code).status_code == 303
    assert create(boss, login="reader", role="liaison").status_code == 303


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"team": ""}, "team", "부서 담당자는 소속 팀 또는 TF를 지정해야 합니다."),
    ({"team": "DIVISION"}, "team", "본부"),
    ({"login": "ADMIN-LOGIN"}, "login", "이미 사용 중인 아이디입니다."),
    ({"login": "bad login"}, "login", "영문 소문자"),
    ({"password": "short1!", "password_confirm": "short1!"}, "password", "3종류 이상으로 9자 이상"),
    ({"password": "Qwer1234!@", "password_confirm": "Qwer1234!@"}, "password",
     "추측하기 쉬운 비밀번호"),
    ({"password": "new-user#Kx83", "password_confirm": "new-user#Kx83"}, "password",
     "아이디·이름·메일 주소가 들어간 비밀번호"),
    ({"password_confirm": "Other-pass-2025"}, "password_confirm", "비밀번호가 서로 다릅니다."),
    ({"name": ""}, "name", "이름을 입력하세요."),
    ({"role": "superuser"}, "role", "중 하나여야 합니다."),
])
def test_create_refusals_are_shown_next_to_the_field(app, org, boss, fields, field, message):
    fields = {key: (org["admin"].login if value == "ADMIN-LOGIN" else
                    org["division"].code if value == "DIVISION" else value)
              for key, value in fields.items()}
    before = snapshot()
    response = create(boss, **fields)
    assert response.status_code == 200
    assert message in field_error(response, field), text(response)
    assert snapshot() == before


# --- edit -------------------------------------------------------------------------------------

def edit(boss, user, **fields):
    data = {"name": user.name, "role": user.role, "team": user.team.code if user.team else "",
            **fields}
    return post_form(boss, f"/admin/users/{user.id}/edit", data)


def test_edit_role_team_and_name(app, org, boss):
    user = org["liaison"]
    page = text(boss.get(f"/admin/users/{user.id}/edit"))
    assert user.login in page
    assert re.search(r'<option selected value="liaison">', page)
    response = edit(boss, user, name="새 이름", role="department", team=org["tf"].code)
    assert response.status_code == 303
    user = reload(user)
    assert (user.name, user.role, user.team_id) == ("새 이름", "department", org["tf"].id)


def test_a_role_change_takes_effect_in_the_running_session(app, org, boss):
    target = org["audit"]
    client = app.test_client()
    login(client, target.login, PASSWORD)
    assert client.get("/admin/users").status_code == 403
    edit(boss, target, role="admin")
    assert client.get("/admin/users").status_code == 200


@pytest.mark.parametrize(("key", "fields", "field", "message"), [
    ("liaison", {"role": "department", "team": ""}, "team", "소속 팀 또는 TF"),
    ("department", {"team": "DIVISION"}, "team", "본부"),
    ("liaison", {"name": "   "}, "name", "이름을 입력하세요"),
])
def test_edit_refusals(app, org, boss, key, fields, field, message):
    fields = {name: org["division"].code if value == "DIVISION" else value
              for name, value in fields.items()}
    before = snapshot()
    response = edit(boss, org[key], **fields)
    assert response.status_code == 200
    assert message in field_error(response, field)
    assert snapshot() == before


def test_admin_cannot_change_own_role_and_the_last_admin_stays(app, org, boss):
    before = snapshot()
    response = edit(boss, org["admin"], role="audit")
    assert response.status_code == 200
    assert "본인 계정의 역할 변경" in field_error(response, "role")
    assert snapshot() == before
    # Own name may change.
    assert edit(boss, org["admin"], name="관리자 이름").status_code == 303


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(app, org, make):
    """The pages cannot get there (an admin may not demote or deactivate self); the rule holds
    in the operation itself, whoever calls it."""
    from auditflow.services import accounts

    with pytest.raises(accounts.LastAdmin):
        accounts.update(org["admin"], name="x", role="audit", team=None, actor=org["audit"])
    with pytest.raises(accounts.LastAdmin):
        accounts.set_active(org["admin"], False, actor=org["audit"])
    db.session.rollback()
    make.user("admin")
    accounts.update(reload(org["admin"]), name="x", role="audit", team=None, actor=org["audit"])


def test_unknown_user_is_404(app, org, boss):
    for path in ("/admin/users/99999/edit", "/admin/users/99999/password",
                 "/admin/users/99999/active"):
        response = boss.get(path)
        assert response.status_code == 404
        assert "사용자를 찾을 수 없습니다." in text(response)


# --- reset password, deactivate, unlock ---------------------------------------------------------

def test_reset_password(app, org, boss):
    user = org["department"]
    lock(user.login)
    db.session.commit()
    response = post_form(boss, f"/admin/users/{user.id}/password",
                         {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 303
    assert "비밀번호를 재설정했습니다" in text(boss.get("/admin/users"))
    assert locked_until(user.login) is None
    assert login(app.test_client(), user.login, PASSWORD).status_code == 200
    assert login(app.test_client(), user.login, NEW_PASSWORD).status_code == 303


def test_reset_password_refusals(app, org, boss):
    user = org["department"]
    before = snapshot()
    weak = post_form(boss, f"/admin/users/{user.id}/password",
                     {"password": "abcdefghij", "password_confirm": "abcdefghij"})
    assert "2종류 이상으로 10자 이상" in field_error(weak, "password")
    differ = post_form(boss, f"/admin/users/{user.id}/password",
                       {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD + "x"})
    assert "비밀번호가 서로 다릅니다" in field_error(differ, "password_confirm")
    own = post_form(boss, f"/admin/users/{org['admin'].id}/password",
                    {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert "비밀번호 변경" in field_error(own, "password")
    assert snapshot() == before


def test_deactivation_needs_the_confirmation(app, org, boss):
    user = org["department"]
    page = text(boss.get(f"/admin/users/{user.id}/active"))
    assert "사용 중지" in page and "세션도 모두 즉시 종료" in page
    before = snapshot()
    response = post_form(boss, f"/admin/users/{user.id}/active", {})
    assert response.status_code == 200
    assert "확인란을 선택해야 진행합니다." in field_error(response, "confirm")
    assert snapshot() == before


def test_deactivate_and_reactivate(app, org, boss):
    user = org["department"]
    assert login(app.test_client(), user.login, PASSWORD).status_code == 303
    assert live_session_count(user) == 1
    assert post_form(boss, f"/admin/users/{user.id}/active", {"confirm": "y"}).status_code == 303
    stored = reload(user)
    assert not stored.active
    assert live_session_count(stored) == 0
    assert "사용이 중지된 계정" in text(login(app.test_client(), user.login, PASSWORD))

    assert "다시 사용" in text(boss.get(f"/admin/users/{user.id}/active"))
    assert post_form(boss, f"/admin/users/{user.id}/active", {"confirm": "y"}).status_code == 303
    assert reload(user).active
    assert login(app.test_client(), user.login, PASSWORD).status_code == 303


def test_admin_cannot_deactivate_self(app, org, boss):
    before = snapshot()
    response = post_form(boss, f"/admin/users/{org['admin'].id}/active", {"confirm": "y"})
    assert response.status_code == 200
    assert "사용 중지" in text(response)
    assert snapshot() == before
    assert signed_in(boss)


def test_unlock(app, org, boss):
    user = org["department"]
    client = app.test_client()
    for _ in range(5):
        login(client, user.login, "Wrong-guess-77!")
    assert locked_until(user.login) is not None
    assert "잠김" in text(boss.get("/admin/users"))
    response = post_form(boss, f"/admin/users/{user.id}/unlock", {}, token_from="/admin/users")
    assert response.status_code == 303
    assert locked_until(user.login) is None
    assert login(client, user.login, PASSWORD).status_code == 303


def test_every_refusal_is_shown_at_once(app, org, boss):
    before = snapshot()
    response = create(boss, login="Bad Login", team="", password="short", password_confirm="short")
    assert "영문 소문자" in field_error(response, "login")
    assert "소속 팀 또는 TF" in field_error(response, "team")
    assert "3종류 이상으로 9자 이상" in field_error(response, "password")
    assert snapshot() == before
