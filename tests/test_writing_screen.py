"""The department's writing screen never loses work (server side; the browser side is in
tests/browser/test_writing_story.py): the way back after a time-out hit a form post,
the keep-alive behind '로그인 유지', drafts the server says it saved, the way back
after an expired form token, and the order of the page. CSRF is on."""

from __future__ import annotations

import re
from datetime import timedelta

from auditflow.extensions import db
from auditflow.http import sessions
from auditflow.models import utcnow
from auditflow.services import recommendations as ops
from tests.auth_helpers import csrf_token, login, signed_in
from tests.factories import PASSWORD
from tests.pages_helpers import client_for, fresh, text


def _age(client, *, idle_minutes: float, since_login_minutes: float | None = None) -> None:
    now = utcnow()
    with client.session_transaction() as session:
        session[sessions.SEEN_AT] = (now - timedelta(minutes=idle_minutes)).timestamp()
        if since_login_minutes is not None:
            session[sessions.LOGIN_AT] = (now - timedelta(minutes=since_login_minutes)).timestamp()


def _writer(make):
    team = make.team("창의경영팀")
    rec = make.recommendation(lead=team, state="in_progress")
    worker = make.user("department", team=team)
    return rec, worker


def test_a_post_that_met_the_time_out_comes_back_to_its_page_after_sign_in(app, make):
    rec, worker = _writer(make)
    client = client_for(app, worker)
    page = f"/recommendations/{rec.id}"
    token = csrf_token(client, page)
    _age(client, idle_minutes=31)

    response = client.post(f"{page}/result",
                           data={"csrf_token": token, "version": fresh(rec).version,
                                 "action_details": "ㅇ 시간이 지나 저장되지 않은 글"},
                           headers={"Referer": f"http://localhost{page}?tab=1"})

    assert response.status_code == 302
    assert response.location == f"/login?next=%2Frecommendations%2F{rec.id}%3Ftab%3D1"
    assert fresh(rec).action_details != "ㅇ 시간이 지나 저장되지 않은 글"  # nothing saved
    assert "장시간 사용하지 않아 로그아웃되었습니다." in text(client.get(response.location))
    back = login(client, worker.login, PASSWORD, next=f"/recommendations/{rec.id}?tab=1")
    assert back.status_code == 303 and back.location == f"{page}?tab=1"


def test_a_signed_out_post_returns_only_to_a_page_of_this_site(app, make):
    rec, _ = _writer(make)
    db.session.commit()
    client = app.test_client()
    page = f"/recommendations/{rec.id}"
    token = csrf_token(client, "/login")

    ours = client.post(f"{page}/comments", data={"csrf_token": token, "body": "x"},
                       headers={"Referer": f"http://localhost{page}"})
    assert ours.status_code == 302
    assert ours.location == f"/login?next=%2Frecommendations%2F{rec.id}"
    for referrer in ("https://evil.example/recommendations/1", "http://localhost/login",
                     "javascript:alert(1)", ""):
        elsewhere = client.post(f"{page}/comments", data={"csrf_token": token, "body": "x"},
                                headers={"Referer": referrer} if referrer else {})
        assert elsewhere.status_code == 302 and elsewhere.location == "/login", referrer
    assert "로그인이 필요합니다." in text(client.get("/login"))


def test_stay_signed_in_renews_the_idle_limit_but_not_the_lifetime(app, make):
    rec, worker = _writer(make)
    client = client_for(app, worker)
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    page = client.get(f"/recommendations/{rec.id}").get_data(as_text=True)
    shown = int(re.search(r'data-session-seconds="(\d+)"', page).group(1))
    assert idle - 5 <= shown <= idle
    assert 'data-keepalive="/account/session"' in page and 'id="session-warning"' in page

    _age(client, idle_minutes=28)
    token = csrf_token(client, "/account/password")
    _age(client, idle_minutes=28)
    kept = client.post("/account/session", headers={"X-CSRFToken": token})
    assert kept.status_code == 200 and idle - 5 <= kept.get_json()["seconds_left"] <= idle
    assert signed_in(client)

    # Near the end of the absolute lifetime, staying signed in does not extend it.
    lifetime = app.config["SESSION_MAX_HOURS"] * 60
    _age(client, idle_minutes=1, since_login_minutes=lifetime - 3)
    late = client.post("/account/session", headers={"X-CSRFToken": token})
    assert 0 < late.get_json()["seconds_left"] <= 3 * 60

    # Once it has ended, the button gets the sign-in page, not a renewed session.
    _age(client, idle_minutes=31)
    ended = client.post("/account/session", headers={"X-CSRFToken": token})
    assert ended.status_code == 302 and ended.location.startswith("/login")
    assert not signed_in(client)


def test_keep_alive_needs_the_form_token(app, make):
    _, worker = _writer(make)
    client = client_for(app, worker)
    refused = client.post("/account/session")
    assert refused.status_code == 400
    assert "보안 토큰이 만료되었거나 올바르지 않습니다" in text(refused)


def test_drafted_forms_carry_their_key_and_a_save_marks_it_saved(app, make):
    rec, worker = _writer(make)
    client = client_for(app, worker)
    page = f"/recommendations/{rec.id}"
    html = client.get(page).get_data(as_text=True)
    for kind in ("result", "comment", "extension"):
        assert f'data-draft="{worker.id}-{rec.id}-{kind}"' in html
    assert "data-draft-saved" not in html
    assert f'data-clears-drafts="{worker.id}"' in html  # signing out drops this user's drafts

    token = csrf_token(client, page)
    saved = client.post(f"{page}/result", data={
        "csrf_token": token, "version": fresh(rec).version, "action_details": "ㅇ 저장한 글"},
        follow_redirects=True)
    saved_html = saved.get_data(as_text=True)
    assert f'data-draft-saved="{worker.id}-{rec.id}-result"' in saved_html
    assert "draft-saved" not in text(saved)  # a marker, never a message on the page
    assert "조치결과를 저장했습니다." in text(saved)
    # Said once: the next page no longer drops anything.
    assert "data-draft-saved" not in client.get(page).get_data(as_text=True)

    commented = client.post(f"{page}/comments", data={"csrf_token": token, "body": "의견"},
                            follow_redirects=True)
    assert f'data-draft-saved="{worker.id}-{rec.id}-comment"' in commented.get_data(as_text=True)

    refused = client.post(f"{page}/comments", data={"csrf_token": token, "body": "  "})
    assert refused.status_code == 400 and "data-draft-saved" not in refused.get_data(as_text=True)


def test_an_expired_form_token_offers_the_way_back_to_the_form(app, make):
    rec, worker = _writer(make)
    client = client_for(app, worker)
    page = f"/recommendations/{rec.id}"
    before = fresh(rec).action_details

    response = client.post(f"{page}/result", data={"csrf_token": "stale", "version": 1,
                                                   "action_details": "ㅇ 글"},
                           headers={"Referer": f"http://localhost{page}"})

    assert response.status_code == 400
    assert "보안 토큰이 만료되었거나 올바르지 않습니다." in text(response)
    assert f'href="{page}"' in response.get_data(as_text=True)
    assert "작성하던 화면으로 돌아가기" in text(response)
    assert fresh(rec).action_details == before
    foreign = client.post(f"{page}/result", data={"csrf_token": "stale"},
                          headers={"Referer": "https://evil.example/x"})
    assert foreign.status_code == 400 and "작성하던 화면으로 돌아가기" not in text(foreign)


def test_only_the_lead_team_is_offered_the_submit_with_its_explanation(app, make):
    lead, helper = make.team("주관팀"), make.team("협조팀")
    rec = make.recommendation(lead=lead, supporting=[helper], state="in_progress")
    ops.edit_result(rec, make.user("department", team=lead), action_details="ㅇ 내용", future_plan=None)
    supporter = client_for(app, make.user("department", team=helper))
    page = text(supporter.get(f"/recommendations/{rec.id}"))
    assert "조치결과 작성" in page and "증빙자료 파일 선택" in page
    assert "검토 요청(제출)은 주관 부서가 합니다." in page


def test_the_approve_reason_box_is_there_only_without_evidence(app, make):
    import io

    from auditflow.services import evidence as evidence_ops

    team = make.team()
    rec = make.recommendation(lead=team, state="in_progress")
    worker = make.user("department", team=team)
    ops.edit_result(rec, worker, action_details="ㅇ 내용", future_plan=None)
    ops.fire(rec, "submit", worker)
    auditor = client_for(app, make.user("audit"))
    without = auditor.get(f"/recommendations/{rec.id}").get_data(as_text=True)
    assert 'for="reason-approve">증빙자료 없이 승인하는 사유' in without
    assert 'data-required-message="증빙자료 없이 승인하는 사유를 입력하세요."' in without

    ops.fire(rec, "return_for_rework", make.user("audit"), reason="증빙 첨부")
    evidence_ops.upload(rec, worker, io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "결과.pdf")
    ops.fire(rec, "submit", worker)
    db.session.commit()
    with_evidence = auditor.get(f"/recommendations/{rec.id}").get_data(as_text=True)
    assert "/actions/approve" in with_evidence and "reason-approve" not in with_evidence
