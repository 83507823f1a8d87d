"""The pages as each role uses them: home, list, forms, the item page, its actions."""

from __future__ import annotations

from datetime import timedelta

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Comment, History, Recommendation
from auditflow.services import recommendations as ops
from auditflow.web.templating import d_day
from tests.conftest import DEMO_PASSWORD
from tests.pages_helpers import client_for, fresh, post, text
from tests.sql_helpers import recorded


def _history(rec: Recommendation) -> list[History]:
    db.session.expire_all()
    return list(db.session.scalars(
        db.select(History).where(History.recommendation_id == rec.id).order_by(History.id)))


# ── home, per role ────────────────────────────────────────────────────────────

def test_audit_home_lists_review_work_overdue_by_team_and_counts_by_state(app, make):
    team = make.team("민원팀")
    auditor = make.user("audit")
    waiting = make.recommendation(lead=team, state="reviewing", text="검토 대기 항목")
    late = make.recommendation(lead=team, state="in_progress", text="기한 지난 항목")
    ops.set_due_date(late, auditor, dates.today() - timedelta(days=5))
    done = make.recommendation(lead=team, state="completed", text="끝난 항목")
    ops.set_due_date(done, auditor, dates.today() - timedelta(days=9))
    blank = make.recommendation(lead=team, state="received", text="작성 없는 항목")
    ops.set_due_date(blank, auditor, dates.today() + timedelta(days=2))
    client = client_for(app, auditor)

    page = text(client.get("/"))

    todo = page.split("내 할 일")[1].split("부서별 기한 경과")[0]
    assert "검토 대기 항목" in todo and "검토 대기" in todo
    assert "작성 없는 항목" in todo and "기한 임박·작성 없음" in todo
    assert "기한 지난 항목" not in todo and "끝난 항목" not in todo
    by_team = page.split("부서별 기한 경과")[1].split("상태별 현황")[0]
    assert "민원팀 1건" in by_team  # the one open overdue item; the closed one is not overdue
    assert "검토 중 1 건" in page and "완료 1 건" in page and "추진 중 1 건" in page
    assert waiting.id


def test_department_home_shows_only_its_items_by_due_date_with_d_day(app, make):
    mine, other = make.team("우리팀"), make.team("남의팀")
    auditor = make.user("audit")
    later = make.recommendation(lead=mine, text="나중 기한 항목")
    sooner = make.recommendation(lead=other, supporting=[mine], text="협조 항목 먼저")
    foreign = make.recommendation(lead=other, text="다른 팀 항목")
    ops.set_due_date(later, auditor, dates.today() + timedelta(days=10))
    ops.set_due_date(sooner, auditor, dates.today() + timedelta(days=3))
    ops.set_due_date(foreign, auditor, dates.today() + timedelta(days=1))
    client = client_for(app, make.user("department", team=mine))

    page = text(client.get("/"))

    assert "다른 팀 항목" not in page
    assert page.index("협조 항목 먼저") < page.index("나중 기한 항목")
    assert "D-3" in page and "D-10" in page


def test_liaison_and_admin_homes_point_to_their_work(app, make):
    liaison = text(client_for(app, make.user("liaison")).get("/"))
    assert "처리결과 총괄" in liaison
    admin_page = client_for(app, make.user("admin")).get("/").get_data(as_text=True)
    assert 'href="/admin/users"' in admin_page


def test_header_names_the_product_user_and_role_with_a_post_logout(app, make):
    user = make.user("audit")
    html = client_for(app, user).get("/").get_data(as_text=True)
    assert "행정사무감사 처리결과 관리" in html
    assert user.name in html and "감사팀" in html
    assert 'action="/logout"' in html and 'method="post"' in html
    assert 'class="app-header no-print"' in html


def test_d_day_words():
    today = dates.today()
    assert d_day(today + timedelta(days=3), today) == "D-3"
    assert d_day(today, today) == "D-day"
    assert d_day(today - timedelta(days=5), today) == "D+5 (기한 경과)"
    assert d_day(None) == ""


# ── the list: filters, visibility, pages ─────────────────────────────────────

def test_list_filters_by_state_category_team_overdue_and_text(app, make):
    audit = make.audit()
    a, b = make.team("가팀"), make.team("나팀")
    auditor = make.user("audit")
    one = make.recommendation(audit=audit, lead=a, text="예산 절감 방안 마련", category="corrective")
    two = make.recommendation(audit=audit, lead=b, text="홍보 강화", state="in_progress")
    ops.edit_result(two, auditor, action_details="ㅇ 예산 재배정 완료", future_plan=None)
    ops.set_due_date(two, auditor, dates.today() - timedelta(days=1))
    three = make.recommendation(audit=audit, lead=b, supporting=[a], text="조직 개편")
    client = client_for(app, auditor)

    def numbers(query: str) -> set[int]:
        html = client.get(f"/recommendations?audit={audit.id}&{query}").get_data(as_text=True)
        return {rec.number for rec in (one, two, three)
                if f'/recommendations/{rec.id}"' in html}

    assert numbers("") == {one.number, two.number, three.number}
    assert numbers("state=in_progress") == {two.number}
    assert numbers("category=corrective") == {one.number}
    assert numbers(f"team={a.id}") == {one.number, three.number}  # lead or supporting
    assert numbers("overdue=1") == {two.number}
    assert numbers("q=예산") == {one.number, two.number}  # council text and 추진내용
    assert numbers("q=100%25") == set()  # LIKE wildcards are searched for literally


def test_department_list_shows_only_its_team_whatever_the_filter(app, make):
    mine, other = make.team(), make.team()
    own = make.recommendation(lead=mine, text="우리 항목")
    helped = make.recommendation(lead=other, supporting=[mine], text="협조 항목")
    foreign = make.recommendation(lead=other, text="남의 항목")
    client = client_for(app, make.user("department", team=mine))

    for query in ("audit=", "audit=&q=항목"):
        html = client.get(f"/recommendations?{query}").get_data(as_text=True)
        assert f"/recommendations/{own.id}\"" in html
        assert f"/recommendations/{helped.id}\"" in html
        assert f"/recommendations/{foreign.id}\"" not in html, query
    # asking for the other team's items gives only those it helps with
    html = client.get(f"/recommendations?audit=&team={other.id}").get_data(as_text=True)
    assert f"/recommendations/{helped.id}\"" in html
    assert f"/recommendations/{foreign.id}\"" not in html and "남의 항목" not in html


def test_list_pages_through_items(app, make):
    audit = make.audit()
    team = make.team()
    for number in range(1, 46):
        make.recommendation(audit=audit, lead=team, number=number, text=f"항목 {number:02d}번")
    client = client_for(app, make.user("audit"))

    first = text(client.get(f"/recommendations?audit={audit.id}"))
    assert "검색 결과 45 건" in first and "1/3 쪽" in first
    assert "항목 01번" in first and "항목 20번" in first and "항목 21번" not in first
    third = text(client.get(f"/recommendations?audit={audit.id}&page=3"))
    assert "항목 41번" in third and "항목 45번" in third and "항목 40번" not in third
    searched = client.get(f"/recommendations?audit={audit.id}&q=항목&page=2")
    page = text(searched)
    assert "항목 21번" in page and "검색 결과" not in page  # no count over a text search
    assert "page=3" in searched.get_data(as_text=True)  # but there is a next page


def test_the_pager_moves_by_key_and_never_skips_rows(app, make):
    import re as regex


    audit = make.audit()
    team = make.team()
    for number in range(1, 46):
        make.recommendation(audit=audit, lead=team, number=number, text=f"항목 {number:02d}번")
    client = client_for(app, make.user("audit"))
    def link(response, label):
        html = response.get_data(as_text=True)
        found = regex.search(rf'<a class="page-navi [a-z]+" href="([^"]+)">{label}</a>', html)
        return found.group(1).replace("&amp;", "&") if found else None

    first = client.get(f"/recommendations?audit={audit.id}")
    assert "1 / 3" in text(first) and link(first, "이전") is None
    with recorded() as statements:
        second = client.get(link(first, "다음"))
        third = client.get(link(second, "다음"))
        last = client.get(link(first, "마지막"))
        back = client.get(link(third, "이전"))
    assert "항목 21번" in text(second) and "항목 40번" in text(second) and "2 / 3" in text(second)
    assert "항목 20번" not in text(second) and "항목 41번" not in text(second)
    assert "항목 41번" in text(third) and "항목 45번" in text(third) and link(third, "다음") is None
    assert text(last).count("항목 4") == 5 and "3 / 3" in text(last)  # 41–45: the pages align
    assert "항목 21번" in text(back) and "항목 40번" in text(back) and "2 / 3" in text(back)
    listing = [(s, p) for s, p in statements if "FROM recommendation" in s and "LIMIT" in s]
    # No row is skipped to reach a page (SQLite writes "OFFSET 0" after every LIMIT).
    assert listing and all(offset == 0 for s, p in listing for offset in _offsets(s, p))
    with recorded() as statements:  # an old link by page number does skip, and is seen to
        assert "항목 21번" in text(client.get(f"/recommendations?audit={audit.id}&page=2"))
    assert 20 in [offset for s, p in statements for offset in _offsets(s, p)]


def _offsets(statement: str, parameters) -> list[object]:
    """The values of a statement's OFFSET clauses: positional ("?", SQLite) or named."""
    import re as regex

    if isinstance(parameters, dict):
        return [parameters[name] for name in regex.findall(r"OFFSET %\((\w+)\)s", statement)]
    values, offsets = list(parameters), []
    for place, _mark in enumerate(regex.finditer(r"\?", statement)):
        if statement[:_mark.end()].endswith("OFFSET ?"):
            offsets.append(values[place])
    return offsets


# ── forms of the audit team ──────────────────────────────────────────────────

def test_audit_team_registers_a_recommendation(app, make):
    audit, team, helper = make.audit(), make.team("주관팀"), make.team("협조팀")
    client = client_for(app, make.user("audit"))

    form = client.get(f"/recommendations/new?audit={audit.id}")
    assert form.status_code == 200
    response = post(client, "/recommendations/new", {
        "audit": audit.id, "number": 7, "category": "corrective",
        "council_text": "업무 절차를 개선하기 바람.", "lead_team": team.id,
        "supporting_teams": [helper.id], "due_date": "2026-06-30",
    })

    assert response.status_code == 303
    rec = db.session.scalar(db.select(Recommendation).filter_by(audit_id=audit.id, number=7))
    assert rec.lead_team_id == team.id and [t.id for t in rec.supporting_teams] == [helper.id]
    kinds = [row.kind for row in _history(rec)]
    assert kinds[0] == "created" and "assignment" in kinds and kinds[-1] == "due_date"
    page = text(client.get(response.location))
    assert "업무 절차를 개선하기 바람." in page and "'26.6.30." in page


def test_register_refusal_is_shown_next_to_the_field(app, make):
    audit = make.audit()
    make.recommendation(audit=audit, number=3)
    client = client_for(app, make.user("audit"))
    before = db.session.scalar(db.select(db.func.count(Recommendation.id)))

    response = post(client, "/recommendations/new", {
        "audit": audit.id, "number": 3, "category": "suggestion", "council_text": "중복",
        "lead_team": 0,
    })

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="number-error"' in html and "3번 요구사항이 이미 있습니다." in html
    assert db.session.scalar(db.select(db.func.count(Recommendation.id))) == before


def test_assign_teams_records_who_and_why_and_refuses_a_division(app, make):
    division = make.team("본부", kind="division")
    lead, tf = make.team("새 주관팀"), make.team("특별TF", kind="task_force")
    rec = make.recommendation()
    auditor = make.user("audit")
    client = client_for(app, auditor)

    page = client.get(f"/recommendations/{rec.id}/assign").get_data(as_text=True)
    assert "특별TF" in page and ">본부<" not in page  # divisions are not offered

    refused = post(client, f"/recommendations/{rec.id}/assign", {
        "version": rec.version, "lead_team": division.id})
    assert refused.status_code == 400  # not a choice the form offers

    done = post(client, f"/recommendations/{rec.id}/assign", {
        "version": fresh(rec).version, "lead_team": lead.id, "supporting_teams": [tf.id],
        "reason": "업무 이관"})
    assert done.status_code == 303
    rec = fresh(rec)
    assert rec.lead_team_id == lead.id and [t.id for t in rec.supporting_teams] == [tf.id]
    last = _history(rec)[-1]
    assert (last.kind, last.actor_id, last.comment) == ("assignment", auditor.id, "업무 이관")
    timeline = text(client.get(f"/recommendations/{rec.id}"))
    assert "담당 부서 지정" in timeline and "주관 새 주관팀, 협조 특별TF" in timeline
    assert "사유: 업무 이관" in timeline


def test_changing_a_due_date_needs_a_reason(app, make):
    rec = make.recommendation()
    auditor = make.user("audit")
    client = client_for(app, auditor)

    first = post(client, f"/recommendations/{rec.id}/due-date",
                 {"version": rec.version, "due_date": "2026-03-31"})
    assert first.status_code == 303
    version = fresh(rec).version

    refused = post(client, f"/recommendations/{rec.id}/due-date",
                   {"version": version, "due_date": "2026-05-31", "reason": ""})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert 'id="reason-error"' in html and "기한을 바꾸는 사유를 입력하세요." in html
    assert str(fresh(rec).due_date) == "2026-03-31"

    done = post(client, f"/recommendations/{rec.id}/due-date",
                {"version": version, "due_date": "2026-05-31", "reason": "예산 일정 변경"})
    assert done.status_code == 303
    assert str(fresh(rec).due_date) == "2026-05-31"
    last = _history(rec)[-1]
    assert (last.old_value, last.new_value, last.comment) == (
        "2026-03-31", "2026-05-31", "예산 일정 변경")


def test_edit_text_needs_a_reason_and_is_recorded(app, make):
    rec = make.recommendation(text="원래 내용")
    client = client_for(app, make.user("audit"))

    refused = post(client, f"/recommendations/{rec.id}/edit", {
        "version": rec.version, "category": "suggestion", "council_text": "고친 내용"})
    assert refused.status_code == 400 and "수정 사유를 입력하세요." in text(refused)
    assert fresh(rec).council_text == "원래 내용"

    done = post(client, f"/recommendations/{rec.id}/edit", {
        "version": rec.version, "category": "suggestion", "council_text": "고친 내용",
        "reason": "오기 정정"})
    assert done.status_code == 303 and fresh(rec).council_text == "고친 내용"
    assert _history(rec)[-1].comment == "오기 정정"


def test_audit_team_creates_and_edits_an_audit(app, make):
    client = client_for(app, make.user("audit"))
    response = post(client, "/audits/new", {
        "year": 2026, "title": "2026 행정사무감사", "body": "서울특별시의회",
        "organisation": "서울AI재단", "received_on": "2026-11-10", "reference_date": ""})
    assert response.status_code == 303
    listing = text(client.get("/audits"))
    assert "2026 행정사무감사" in listing and "'26.11.10." in listing

    duplicate = post(client, "/audits/new", {
        "year": 2026, "title": "2026 행정사무감사", "body": "서울특별시의회",
        "organisation": "서울AI재단"})
    assert duplicate.status_code == 400
    assert "'2026 행정사무감사' 감사가 이미 있습니다." in text(duplicate)

    bad = post(client, "/audits/new", {"year": "이천", "title": "", "body": "x",
                                       "organisation": "y"})
    assert bad.status_code == 400
    page = text(bad)
    assert "감사명을 입력하세요." in page and "올바르지 않은 정수 값입니다." in page


# ── the item page ────────────────────────────────────────────────────────────

def test_item_page_shows_everything_about_the_item(app, make):
    lead, helper = make.team("주관팀"), make.team("협조팀")
    rec = make.recommendation(lead=lead, supporting=[helper], state="in_progress",
                              text="의회 요구 내용")
    worker = make.user("department", team=lead)
    auditor = make.user("audit")
    ops.edit_result(rec, worker, action_details="ㅇ 첫 항목\n  - 세부 항목\n    ※ 참고",
                    future_plan="ㅇ 계획")
    ops.set_due_date(rec, auditor, dates.today() - timedelta(days=2))
    client = client_for(app, worker)

    response = client.get(f"/recommendations/{rec.id}")
    html = response.get_data(as_text=True)
    page = text(response)

    assert "의회 요구 내용" in page and "주관팀" in page and "협조: 협조팀" in page
    assert "D+2 (기한 경과)" in page and "overdue-mark" in html
    assert 'class="krds-badge bg-light-information state-badge">추진 중<' in html
    assert "조치결과 작성" in page  # the team may edit while in progress
    # ...in the editor, which takes the place of the text it edits
    assert 'outline-level-0' not in html and "ㅇ 첫 항목\n  - 세부 항목" in html
    assert f'action="/recommendations/{rec.id}/actions/submit"' in html
    assert "/actions/approve" not in html  # only the triggers this user may fire
    assert "등록" in page and "기한 변경" in page and "조치결과 수정" in page  # history
    # In the order of work: the editor, the evidence, then 검토 요청 with what happens next.
    assert (page.index("조치결과 작성") < page.index("증빙자료 파일 선택")
            < page.index("검토 요청(제출)") < page.index("처리 이력"))
    assert "감사팀이 검토해 승인하거나 보완을 요청합니다" in page

    reader = client_for(app, auditor).get(f"/recommendations/{rec.id}").get_data(as_text=True)
    assert 'outline-level-0' in reader and 'outline-level-1' in reader
    assert 'outline-level-2' in reader and '<span class="outline-marker">※</span>' in reader
    assert "조치결과 직접 고치기" in reader  # the audit team may still correct it


def test_buttons_follow_the_workflow_for_each_user(app, make):
    team = make.team()
    rec = make.recommendation(lead=team, state="reviewing")
    auditor_html = client_for(app, make.user("audit")).get(
        f"/recommendations/{rec.id}").get_data(as_text=True)
    for trigger in ("approve", "return_for_rework", "decline"):
        assert f"/actions/{trigger}\"" in auditor_html
    assert "/actions/reopen" not in auditor_html and "/actions/submit" not in auditor_html
    assert '<label for="reason-return_for_rework">보완 요청 사유</label>' in auditor_html
    assert 'id="confirm-decline" name="confirm" value="y" required' in auditor_html

    for role in ("liaison", "admin"):
        html = client_for(app, make.user(role)).get(f"/recommendations/{rec.id}").get_data(
            as_text=True)
        assert "/actions/" not in html and "조치결과 작성" not in html


def test_team_writes_its_result_and_submits(app, make):
    team = make.team()
    rec = make.recommendation(lead=team, state="in_progress")
    worker = make.user("department", team=team)
    client = client_for(app, worker)

    saved = post(client, f"/recommendations/{rec.id}/result", {
        "version": fresh(rec).version, "action_details": "ㅇ 조치함\r\n  - 세부",
        "future_plan": "ㅇ 계속 점검"})
    assert saved.status_code == 303
    assert fresh(rec).action_details == "ㅇ 조치함\n  - 세부"

    submitted = post(client, f"/recommendations/{rec.id}/actions/submit",
                     {"version": fresh(rec).version}, follow=True)
    assert "'검토 요청(제출)' 처리했습니다. 현재 상태: 검토 중" in text(submitted)
    assert fresh(rec).state == "reviewing"
    last = _history(rec)[-1]
    assert (last.trigger, last.actor_id) == ("submit", worker.id)


def test_actions_with_and_without_their_reason(app, make):
    rec = make.recommendation(state="reviewing")
    auditor = make.user("audit")
    client = client_for(app, auditor)

    refused = post(client, f"/recommendations/{rec.id}/actions/return_for_rework",
                   {"version": fresh(rec).version, "reason": "  "}, follow=True)
    assert "사유를 입력하세요." in text(refused)
    assert fresh(rec).state == "reviewing"

    no_evidence = post(client, f"/recommendations/{rec.id}/actions/approve",
                       {"version": fresh(rec).version}, follow=True)
    assert "증빙자료가 없습니다. 증빙자료 없이 승인하려면 그 사유를 입력하세요." in text(no_evidence)
    assert fresh(rec).state == "reviewing"

    done = post(client, f"/recommendations/{rec.id}/actions/return_for_rework",
                {"version": fresh(rec).version, "reason": "증빙 보완 바람"})
    assert done.status_code == 303 and fresh(rec).state == "in_progress"
    assert _history(rec)[-1].comment == "증빙 보완 바람"
    assert "사유: 증빙 보완 바람" in text(client.get(f"/recommendations/{rec.id}"))


def test_destructive_actions_need_the_confirmation(app, make):
    rec = make.recommendation(state="reviewing")
    client = client_for(app, make.user("audit"))

    refused = post(client, f"/recommendations/{rec.id}/actions/decline",
                   {"version": fresh(rec).version, "reason": "반영 불가"}, follow=True)
    assert "'미반영 처리'를 하려면 '확인했습니다'에 표시하세요." in text(refused)
    assert fresh(rec).state == "reviewing"

    done = post(client, f"/recommendations/{rec.id}/actions/decline",
                {"version": fresh(rec).version, "reason": "반영 불가", "confirm": "y"})
    assert done.status_code == 303 and fresh(rec).state == "not_reflected"


def test_a_stale_version_is_refused_with_the_conflict_message(app, make):
    team = make.team()
    rec = make.recommendation(lead=team, state="reviewing")
    client = client_for(app, make.user("audit"))
    seen = fresh(rec).version
    ops.fire(fresh(rec), "return_for_rework", make.user("audit"), reason="먼저 돌려보냄")
    db.session.commit()

    response = post(client, f"/recommendations/{rec.id}/actions/decline",
                    {"version": seen, "reason": "늦은 판단", "confirm": "y"}, follow=True)

    assert "다른 사용자가 먼저 변경했습니다. 화면을 새로 고친 뒤 다시 시도하세요." in text(response)
    assert fresh(rec).state == "in_progress"

    stale_form = post(client, f"/recommendations/{rec.id}/due-date",
                      {"version": seen, "due_date": "2026-12-31"})
    assert stale_form.status_code == 409 and "다른 사용자가 먼저 변경했습니다" in text(stale_form)
    assert fresh(rec).due_date is None


def test_comments_between_audit_team_and_assigned_teams(app, make):
    team = make.team()
    rec = make.recommendation(lead=team)
    auditor, worker = make.user("audit"), make.user("department", team=team)

    assert post(client_for(app, auditor), f"/recommendations/{rec.id}/comments",
                {"body": "증빙 보완 바랍니다."}).status_code == 303
    worker_client = client_for(app, worker)
    assert post(worker_client, f"/recommendations/{rec.id}/comments",
                {"body": "다음 주에 올리겠습니다."}).status_code == 303
    page = text(worker_client.get(f"/recommendations/{rec.id}"))
    assert page.index("증빙 보완 바랍니다.") < page.index("다음 주에 올리겠습니다.")

    empty = post(worker_client, f"/recommendations/{rec.id}/comments", {"body": " "})
    assert empty.status_code == 400 and "의견을 입력하세요." in text(empty)
    liaison_page = text(client_for(app, make.user("liaison")).get(f"/recommendations/{rec.id}"))
    assert "다음 주에 올리겠습니다." in liaison_page and "의견 남기기" not in liaison_page
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 2


# ── user text is text ────────────────────────────────────────────────────────

def test_script_in_council_text_comment_and_team_name_is_shown_as_text(app, make):
    evil = "<script>alert(1)</script>"
    team = make.team(f"팀{evil}")
    rec = make.recommendation(lead=team, text=f"요구 {evil}", state="in_progress")
    worker = make.user("department", team=team)
    ops.edit_result(rec, worker, action_details=f"ㅇ 조치 {evil}", future_plan=None)
    client = client_for(app, worker)
    post(client, f"/recommendations/{rec.id}/comments", {"body": f"의견 {evil}"})

    for path in (f"/recommendations/{rec.id}", "/recommendations?audit=", "/"):
        html = client.get(path).get_data(as_text=True)
        assert evil not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path


# ── the seed document, as a person sees it ───────────────────────────────────

def test_seeded_item_page_renders_the_document_outline(app, seeded):
    from tests.auth_helpers import login

    client = app.test_client()
    assert login(client, "ai-companion", DEMO_PASSWORD).status_code == 303
    rec = db.session.scalar(db.select(Recommendation).filter_by(number=1))
    html = client.get(f"/recommendations/{rec.id}").get_data(as_text=True)
    assert "(교육장 확보) 디지털동행플라자 (2개소)" in html
    assert html.count('outline-level-1') >= 4
    assert "승인(완료)" in text(client.get(f"/recommendations/{rec.id}"))  # in the history
