"""``flask --app auditflow user create|list``: the first admin, and refusals with a stable code."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from auditflow.extensions import db
from auditflow.models import User
from tests.auth_helpers import login

GOOD = "Cli-pass-2025!"


def run(app, *args: str, password: str | None = GOOD, input: str | None = None):
    env = {"AUDITFLOW_NEW_USER_PASSWORD": password} if password is not None else {}
    return app.test_cli_runner().invoke(args=["user", *args], env=env, input=input)


def users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def stored(login_name: str) -> User | None:
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.login == login_name)).first()


def test_create_the_first_admin_from_the_environment(app, app_context):
    result = run(app, "create", "--login", "Boss", "--name", "시스템 관리자", "--role", "admin")
    assert result.exit_code == 0, result.output
    assert "사용자 등록: boss (시스템 관리자, 시스템 관리자)" in result.stdout
    user = stored("boss")
    assert user.role == "admin" and user.active and user.team is None
    assert user.password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert GOOD not in result.output
    client = app.test_client()
    assert login(client, "boss", GOOD).status_code == 303
    assert client.get("/admin/users").status_code == 200


def test_create_a_department_user_with_a_team(app, seeded):
    result = run(app, "create", "--login", "ai-companion-2", "--name", "AI동행팀 주무관",
                 "--role", "department", "--team", "ai-companion")
    assert result.exit_code == 0, result.output
    user = stored("ai-companion-2")
    assert user.team.code == "ai-companion"
    assert "AI동행팀" in result.stdout


def test_password_is_asked_twice_without_echo(app, app_context):
    result = run(app, "create", "--login", "prompted", "--name", "입력", "--role", "liaison",
                 password=None, input=f"{GOOD}\n{GOOD}\n")
    assert result.exit_code == 0, result.output
    assert "비밀번호" in result.output and "비밀번호 확인" in result.output
    assert GOOD not in result.output  # hidden input is not echoed
    assert stored("prompted") is not None


def test_prompted_passwords_that_differ_are_not_accepted(app, app_context):
    result = run(app, "create", "--login", "prompted", "--name", "입력", "--role", "liaison",
                 password=None, input=f"{GOOD}\nOther-pass-2025!\n")
    assert result.exit_code != 0
    assert stored("prompted") is None


def test_a_refusal_comes_before_the_password_prompt(app, app_context):
    result = run(app, "create", "--login", "x1", "--name", "누구", "--role", "department",
                 password=None, input="")
    assert result.exit_code == 1
    assert result.stderr.startswith("오류 [team_required]: ")
    assert "비밀번호" not in result.stdout


@pytest.mark.parametrize(("args", "password", "code"), [
    (["--login", "dep", "--name", "부서", "--role", "department"], GOOD, "team_required"),
    (["--login", "dep", "--name", "부서", "--role", "department", "--team", "nowhere"], GOOD,
     "team_not_found"),
    (["--login", "dep", "--name", "부서", "--role", "department", "--team", "ai-innovation"], GOOD,
     "team_not_assignable"),
    (["--login", "someone", "--name", "누구", "--role", "boss"], GOOD, "role_invalid"),
    (["--login", "bad login!", "--name", "누구", "--role", "audit"], GOOD, "login_invalid"),
    (["--login", "admin", "--name", "또 관리자", "--role", "admin"], GOOD, "login_taken"),
    (["--login", "someone", "--name", "  ", "--role", "audit"], GOOD, "name_required"),
    (["--login", "someone", "--name", "누구", "--role", "audit"], "short1!", "password_weak"),
    (["--login", "someone", "--name", "누구", "--role", "audit"], "onlyletters", "password_weak"),
])
def test_refusals_print_a_code_and_change_nothing(app, seeded, args, password, code):
    before = users()
    result = run(app, "create", *args, password=password)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"오류 [{code}]: ")
    assert result.stdout == ""
    assert users() == before


def test_division_code_really_is_a_division(app, seeded):
    from auditflow.models import OrgUnit

    unit = db.session.scalars(select(OrgUnit).where(OrgUnit.code == "ai-innovation")).first()
    assert unit is not None and unit.kind == "division"


def test_user_list(app, seeded):
    result = run(app, "list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == users()
    admin_line = next(line for line in lines if line.startswith("admin\t"))
    assert "시스템 관리자" in admin_line and "사용" in admin_line
    companion = next(line for line in lines if line.startswith("ai-companion\t"))
    assert "부서 담당자" in companion and "AI동행팀" in companion


def test_several_refusals_are_listed_after_the_first(app, app_context):
    result = run(app, "create", "--login", "Bad Login", "--name", " ", "--role", "department")
    assert result.exit_code == 1
    first, *more = result.stderr.splitlines()
    assert first.startswith("오류 [login_invalid]: ")
    assert more == ["  - [name_required] 이름을 입력하세요 (100자 이하).",
                    "  - [team_required] 부서 담당자는 소속 팀 또는 TF를 지정해야 합니다."]


@pytest.mark.parametrize(("password", "code"), [
    ("Password1!", "password_guessable"),   # the Korean rule alone would take it
    ("Kim.boss-2025!", "password_personal"),  # the login
])
def test_create_refuses_guessable_and_personal_passwords(app, app_context, password, code):
    result = run(app, "create", "--login", "kim.boss", "--name", "김관리", "--role", "admin",
                 password=password)
    assert result.exit_code == 1
    assert f"[{code}]" in result.output
    assert stored("kim.boss") is None
