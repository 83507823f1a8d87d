"""Sessions per device (issue 11, item 7): each sign-in its own server-side session, the
user's "로그인 기기" page, logout here only, password change / reset / deactivation
everywhere. CSRF stays on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from auditflow.extensions import db
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
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"
DESKTOP = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0 Safari/537.36")


@pytest.fixture
def user(make):
    person = make.user("department")
    db.session.commit()
    return person


def client_for(app, who: User, agent: str = DESKTOP, address: str = "10.1.2.3"):
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": agent, "REMOTE_ADDR": address})
    assert login(client, who.login, PASSWORD).status_code == 303
    return client


def secret_of(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("_user_id")


def row_of(client) -> UserSession:
    db.session.expire_all()
    row = db.session.scalars(select(UserSession).where(
        UserSession.secret_hash == user_sessions.hash_secret(secret_of(client) or ""))).first()
    assert row is not None
    return row


def live(user: User) -> list[UserSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)).order_by(UserSession.id)))


def text(response) -> str:
    return response.get_data(as_text=True)


# --- each sign-in its own session ------------------------------------------------------------

def test_each_sign_in_makes_its_own_session_with_a_new_id(app, user):
    first = client_for(app, user)
    second = client_for(app, user, PHONE)
    assert secret_of(first) != secret_of(second)
    assert [row.id for row in live(user)] == [row_of(first).id, row_of(second).id]
    assert row_of(first).user_agent == "크롬 · Windows" and row_of(second).user_agent == "사파리 · iOS"
    assert row_of(first).address == "10.1.2.3"
    # Only the hash of the cookie's secret is stored.
    assert all(secret_of(first) not in (row.secret_hash,) for row in live(user))


def test_signing_in_again_in_the_same_browser_gets_a_new_id_and_the_old_cookie_dies(app, user):
    client = client_for(app, user)
    old_secret, old_cookie, old_row = secret_of(client), session_cookie(client), row_of(client)
    token = csrf_token(client, "/account/password")  # signed in: /login would send us on
    answer = client.post("/login", data={"csrf_token": token, "login": user.login,
                                         "password": PASSWORD})
    assert answer.status_code == 303
    assert signed_in(client)
    assert secret_of(client) != old_secret
    db.session.refresh(old_row)
    assert (old_row.end_reason, old_row.ended_at is not None) == ("new_sign_in", True)
    assert [row.id for row in live(user)] == [row_of(client).id]
    thief = app.test_client()
    replay_session(thief, old_cookie)
    assert not signed_in(thief)


def test_signing_out_on_one_device_leaves_the_other_signed_in(app, user):
    office = client_for(app, user)
    phone = client_for(app, user, PHONE)
    copied = session_cookie(office)
    assert logout(office).status_code == 303
    assert not signed_in(office)
    assert signed_in(phone)
    replay_session(office, copied)
    assert not signed_in(office)
    assert [row.user_agent for row in live(user)] == ["사파리 · iOS"]


def test_a_password_change_ends_all_and_this_browser_goes_on_with_a_new_id(app, user):
    here = client_for(app, user)
    elsewhere = client_for(app, user, PHONE)
    before_secret, before_cookie = secret_of(here), session_cookie(here)
    signed_in_at = row_of(here).created_at
    answer = post_form(here, "/account/password", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD})
    assert answer.status_code == 303
    assert signed_in(here) and not signed_in(elsewhere)
    assert secret_of(here) != before_secret
    [now_live] = live(user)
    assert now_live.id == row_of(here).id
    assert now_live.created_at == signed_in_at  # the absolute lifetime is not extended
    replay_session(elsewhere, before_cookie)
    assert not signed_in(elsewhere)


@pytest.mark.parametrize("action", ["reset", "deactivate"])
def test_an_administrator_ends_all_of_a_users_sessions(app, make, user, action):
    boss = client_for(app, make.user("admin"))
    db.session.commit()
    devices = [client_for(app, user), client_for(app, user, PHONE)]
    if action == "reset":
        answer = post_form(boss, f"/admin/users/{user.id}/password",
                           {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    else:
        answer = post_form(boss, f"/admin/users/{user.id}/active", {"confirm": "y"})
    assert answer.status_code == 303
    assert not any(signed_in(device) for device in devices)
    assert live(user) == []
    assert signed_in(boss)


# --- the row's own limits, and the throttled note of use ---------------------------------------

def test_last_seen_is_written_at_most_once_a_minute(app, user):
    client = client_for(app, user)
    row = row_of(client)
    two_minutes_ago = utcnow() - timedelta(minutes=2)
    row.last_seen_at = two_minutes_ago
    db.session.commit()
    assert client.get("/account/password").status_code == 200
    noted = row_of(client).last_seen_at
    assert noted > two_minutes_ago + timedelta(minutes=1)
    assert client.get("/account/password").status_code == 200
    assert row_of(client).last_seen_at == noted  # within the minute: not written again


def test_the_server_side_session_expires_by_itself(app, user):
    """Even with a cookie whose own times look fresh, an idle or old row signs nobody in."""
    client = client_for(app, user)
    row = row_of(client)
    row.last_seen_at = utcnow() - timedelta(minutes=32)
    db.session.commit()
    assert not signed_in(client)

    again = client_for(app, user)
    row = row_of(again)
    row.created_at = utcnow() - timedelta(hours=12, minutes=1)
    db.session.commit()
    assert not signed_in(again)


def test_a_bypassed_sign_in_names_no_session(app, user):
    """Flask-Login's login_user alone would store User.get_id(), which opens no session."""
    assert user_sessions.find(user.get_id()) is None
    assert user_sessions.find("") is None


# --- 로그인 기기 ------------------------------------------------------------------------------

def test_the_page_lists_the_active_sessions_and_marks_this_one(app, make, user):
    office = client_for(app, user)
    client_for(app, user, PHONE, "192.0.2.7")
    ended = client_for(app, user, "curl/8")
    logout(ended)
    stranger = make.user("department")
    db.session.commit()
    client_for(app, stranger, "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0")
    page = text(office.get("/account/devices"))
    assert "로그인 기기" in page
    assert page.count("지금 사용 중인 기기") == 1
    assert "크롬 · Windows" in page and "사파리 · iOS" in page and "192.0.2.7" in page
    assert "알 수 없는 기기" not in page  # the signed-out one is not listed
    assert "파이어폭스" not in page  # nor anybody else's
    assert page.count('/end">') == 1  # the other device only; this one ends with 로그아웃
    assert "다른 기기 모두 로그아웃" in page


def test_ending_another_device(app, user):
    office = client_for(app, user)
    phone = client_for(app, user, PHONE)
    target = row_of(phone)
    # Without the CSRF token: refused, nothing ended.
    assert office.post(f"/account/devices/{target.id}/end").status_code == 400
    assert signed_in(phone)
    answer = post_form(office, f"/account/devices/{target.id}/end", token_from="/account/devices")
    assert answer.status_code == 303
    assert "사파리 · iOS)의 로그인을 종료했습니다" in text(office.get("/account/devices"))
    assert not signed_in(phone) and signed_in(office)
    # Ended already: not found any more.
    again = post_form(office, f"/account/devices/{target.id}/end", token_from="/account/devices")
    assert again.status_code == 404


def test_this_device_and_other_users_sessions_cannot_be_ended_there(app, make, user):
    office = client_for(app, user)
    mine = row_of(office)
    answer = post_form(office, f"/account/devices/{mine.id}/end", token_from="/account/devices")
    assert answer.status_code == 400 and "로그아웃을 누르세요" in text(answer)
    assert signed_in(office)
    other = make.user("department")
    db.session.commit()
    theirs = client_for(app, other)
    answer = post_form(office, f"/account/devices/{row_of(theirs).id}/end",
                       token_from="/account/devices")
    assert answer.status_code == 404
    assert signed_in(theirs)


def test_ending_all_others_needs_the_confirmation(app, user):
    office = client_for(app, user)
    phones = [client_for(app, user, PHONE), client_for(app, user, PHONE)]
    refused = post_form(office, "/account/devices/end-others", token_from="/account/devices")
    assert refused.status_code == 400 and "확인란을 선택하세요" in text(refused)
    assert all(signed_in(phone) for phone in phones)
    done = post_form(office, "/account/devices/end-others", {"confirm": "y"},
                     token_from="/account/devices")
    assert done.status_code == 303
    assert "다른 기기 2곳의 로그인을 종료했습니다" in text(office.get("/account/devices"))
    assert signed_in(office) and not any(signed_in(phone) for phone in phones)
    assert [row.id for row in live(user)] == [row_of(office).id]


def test_the_keep_alive_still_answers_the_time_left(app, user):
    client = client_for(app, user)
    token = csrf_token(client, "/account/devices")
    answer = client.post("/account/session", headers={"X-CSRFToken": token})
    assert answer.status_code == 200 and answer.get_json()["seconds_left"] > 29 * 60


@pytest.mark.parametrize(("agent", "summary"), [
    (DESKTOP, "크롬 · Windows"),
    (PHONE, "사파리 · iOS"),
    ("Mozilla/5.0 (Windows NT 10.0) Chrome/120 Safari/537.36 Edg/120.0", "엣지 · Windows"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Chrome/120 Whale/3.24 Safari/537.36",
     "웨일 · macOS"),
    ("Mozilla/5.0 (Linux; Android 14) SamsungBrowser/23.0 Chrome/115 Mobile Safari/537.36",
     "삼성 인터넷 · Android"),
    ("", "알 수 없는 기기"),
    (None, "알 수 없는 기기"),
])
def test_the_browser_is_summarised_in_korean(agent, summary):
    assert user_sessions.describe_agent(agent) == summary


def test_the_hourly_sweep_removes_sessions_over_for_a_month_and_no_other(app, user):
    from auditflow import jobs

    now = utcnow()
    month = user_sessions.ENDED_KEPT
    lifetime = timedelta(hours=app.config["SESSION_MAX_HOURS"])

    def row(created, *, ended=None, note: str) -> None:
        db.session.add(UserSession(
            user=user, secret_hash=user_sessions.hash_secret(note), created_at=created,
            last_seen_at=created, user_agent=note, address="10.1.2.3",
            ended_at=ended, end_reason="logout" if ended else None))

    row(now - month - timedelta(days=2), ended=now - month - timedelta(days=1), note="ended long ago")
    row(now - month - lifetime - timedelta(hours=1), note="expired long ago")
    row(now - month, ended=now - month + timedelta(days=1), note="ended in the month")
    row(now - month - lifetime + timedelta(hours=1), note="expired in the month")
    row(now, note="live")
    db.session.commit()
    client_for(app, user)  # a sign-in of now, through the pages
    with app.app_context():
        assert jobs.sweep_sessions() == 2
        assert jobs.sweep_sessions() == 0
    db.session.expire_all()
    left = {r.user_agent for r in db.session.scalars(select(UserSession))}
    assert left == {"ended in the month", "expired in the month", "live", "크롬 · Windows"}
    assert app.extensions["auditflow.jobs"].sweep_sessions.task_class().validate_datetime(
        now.replace(minute=23, tzinfo=None))
