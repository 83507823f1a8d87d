"""The bell, the notification list, marking read, and the e-mail choices, through the pages (CSRF on)."""

from __future__ import annotations

import re

from sqlalchemy import select

from auditflow.extensions import db
from auditflow.models import Notification, NotificationPreference, User
from auditflow.services import notifications
from auditflow.services import recommendations as ops
from auditflow.vocabulary import NotificationKind
from tests.auth_helpers import csrf_token
from tests.pages_helpers import client_for, fresh, post, text
from tests.sql_helpers import recorded


def bell(client) -> int:
    """The header's unread count on the home page."""
    return bell_of(client.get("/").get_data(as_text=True))


def bell_of(html: str) -> int:
    """The header's unread count, as the bell shows it (and says it to a screen reader)."""
    found = re.search(r'<a class="[^"]*app-bell[^"]*"[^>]*data-unread="(\d+)">(.*?)</a>', html)
    assert found, "no bell in the header"
    unread = int(found.group(1))
    spoken = re.sub(r"<[^>]+>", " ", found.group(2)).split()
    assert spoken == (["알림", str(unread), "건", "읽지", "않음"] if unread else ["알림"])
    return unread


def test_the_bell_counts_and_the_list_shows_what_happened(app, make):
    team = make.team("주관팀")
    worker = make.user("department", team=team)
    auditor = make.user("audit")
    with notifications.quiet():
        rec = make.recommendation(lead=team, state="reviewing")
    client = client_for(app, worker)
    assert bell(client) == 0

    ops.fire(rec, "return_for_rework", auditor, reason="분기별 일정을 추가해 주세요")
    db.session.commit()
    assert bell(client) == 1
    page = text(client.get("/notifications"))
    assert "보완 요청이 왔습니다" in page and "사유: 분기별 일정을 추가해 주세요" in page
    assert "읽지 않음 1건" in page


def test_the_bell_is_counted_with_the_session_on_a_read_and_afresh_after_a_post(app, make):
    """A page that only reads counts the bell in the statement that reads the session; a
    page drawn by a post (which may have changed what is read) counts it again."""
    team = make.team()
    worker = make.user("department", team=team)
    make.recommendation(lead=team), make.recommendation(lead=team)  # each notifies the team
    db.session.commit()
    client = client_for(app, worker)
    client.get("/")
    with recorded(app) as statements:
        html = client.get("/notifications").get_data(as_text=True)
    assert bell_of(html) == 2
    counting = [s.sql for s in statements if "notification.read_at IS NULL" in s.sql]
    with_session = [sql for sql in counting if "user_session" in sql]
    assert len(with_session) == 1, counting
    token = csrf_token(client, "/account/password")
    with recorded(app) as statements:
        refused = client.post("/account/password", data={
            "csrf_token": token, "current_password": "", "new_password": "",
            "new_password_confirm": ""})
    assert "현재 비밀번호를 입력하세요." in text(refused)  # refused, and the page drawn
    assert bell_of(refused.get_data(as_text=True)) == 2
    assert [s.sql for s in statements if "notification.read_at IS NULL" in s.sql
            and "user_session" not in s.sql], "a post's page counts the bell again"


def test_opening_a_notification_marks_it_read_and_goes_to_the_item(app, make):
    team = make.team()
    worker = make.user("department", team=team)
    rec = make.recommendation(lead=team)  # the assignment notifies the team
    db.session.commit()
    [note] = db.session.scalars(select(Notification).where(Notification.user_id == worker.id))
    client = client_for(app, worker)
    response = post(client, f"/notifications/{note.id}/read")
    assert response.status_code == 303
    assert response.location.endswith(f"/recommendations/{rec.id}")
    assert fresh(note).read_at is not None
    assert bell(client) == 0


def test_read_all_and_nobody_elses(app, make):
    team = make.team()
    worker, colleague = make.user("department", team=team), make.user("department", team=team)
    for _ in range(3):
        make.recommendation(lead=team)
    db.session.commit()
    client = client_for(app, worker)
    assert bell(client) == 3
    response = post(client, "/notifications/read-all", follow=True)
    assert "알림 3건을 읽음으로 표시했습니다." in text(response)
    assert bell(client) == 0
    theirs = db.session.scalars(select(Notification).where(
        Notification.user_id == colleague.id)).first()
    assert post(client, f"/notifications/{theirs.id}/read").status_code == 404
    assert fresh(theirs).read_at is None
    assert client.post(f"/notifications/{theirs.id}/read").status_code == 400  # no token


def test_e_mail_choices_are_saved_per_kind(app, make):
    user = make.user("department", email="me@seoul-ai.example")
    client = client_for(app, user)
    page = client.get("/account/notifications")
    assert page.status_code == 200
    assert "me@seoul-ai.example" in text(page)
    assert all(kind.label in text(page) for kind in NotificationKind)
    token = csrf_token(client, "/account/notifications")
    response = client.post("/account/notifications", data={
        "csrf_token": token, "email_kinds": ["returned", "digest"]}, follow_redirects=True)
    assert "알림 메일 설정을 저장했습니다." in text(response)
    db.session.expire_all()
    stored = {row.kind: row.email for row in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id))}
    assert stored == {kind.value: kind.value in ("returned", "digest") for kind in NotificationKind}
    assert notifications.email_preferences(user)[NotificationKind.ASSIGNED] is False
    # Everything off is a choice too.
    token = csrf_token(client, "/account/notifications")
    client.post("/account/notifications", data={"csrf_token": token})
    assert not any(notifications.email_preferences(fresh(user)).values())


def test_the_admin_sets_the_address_and_the_manager_flag(app, make):
    admin = make.user("admin")
    team = make.team()
    client = client_for(app, admin)
    token = csrf_token(client, "/admin/users/new")
    response = client.post("/admin/users/new", data={
        "csrf_token": token, "login": "team-boss", "name": "팀장", "role": "department",
        "team": team.code, "email": "boss@seoul-ai.example", "is_manager": "y",
        "password": "Newcomer-pass-2025!", "password_confirm": "Newcomer-pass-2025!"})
    assert response.status_code == 303, text(response)
    boss = db.session.scalar(select(User).filter_by(login="team-boss"))
    assert (boss.email, boss.is_manager) == ("boss@seoul-ai.example", True)
    token = csrf_token(client, f"/admin/users/{boss.id}/edit")
    refused = client.post(f"/admin/users/{boss.id}/edit", data={
        "csrf_token": token, "name": "팀장", "role": "department", "team": team.code,
        "email": "not an address"})
    assert "메일 주소가 올바르지 않습니다" in text(refused)
    assert fresh(boss).email == "boss@seoul-ai.example"
    # A manager is a team user: made a liaison, the flag goes.
    token = csrf_token(client, f"/admin/users/{boss.id}/edit")
    client.post(f"/admin/users/{boss.id}/edit", data={
        "csrf_token": token, "name": "팀장", "role": "liaison", "team": "", "email": "",
        "is_manager": "y"})
    assert (fresh(boss).email, fresh(boss).is_manager) == (None, False)


def test_demo_users_get_an_example_address(seeded):
    users = db.session.scalars(select(User)).all()
    assert users and all(user.email == f"{user.login}@auditflow.example" for user in users)


def test_user_create_command_takes_an_email(app, app_context, monkeypatch):
    monkeypatch.setenv("AUDITFLOW_NEW_USER_PASSWORD", "Newcomer-pass-2025!")
    result = app.test_cli_runner().invoke(args=[
        "user", "create", "--login", "mailer", "--name", "메일", "--role", "liaison",
        "--email", "mailer@seoul-ai.example"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User.email).filter_by(login="mailer")) == \
        "mailer@seoul-ai.example"
    bad = app.test_cli_runner().invoke(args=[
        "user", "create", "--login", "mailer2", "--name", "메일", "--role", "liaison",
        "--email", "nope"])
    assert bad.exit_code == 1 and "[email_invalid]" in bad.output
