"""Page parts kept while the data stands still (web/parts.py): the next request shows every
change, whoever made it and however, and a part drawn for one user is never another's."""

from __future__ import annotations

import re
from datetime import date

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Audit, OrgUnit
from auditflow.services import recommendations as ops
from tests.pages_helpers import client_for, text, text_of
from tests.sql_helpers import recorded


def _list(client, audit) -> str:
    """The list page's table and count as read (the filter form lists every team anyway)."""
    response = client.get(f"/recommendations?audit={audit.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    shown = re.findall(r'<p class="result-count".*?</p>|<tbody>.*?</tbody>', html, flags=re.S)
    return text_of(" ".join(shown))


def test_the_list_is_drawn_once_and_again_after_any_change(app, make):
    audit = make.audit()
    team, other = make.team(name="첫째팀"), make.team(name="둘째팀")
    auditor = make.user("audit")
    item = make.recommendation(audit=audit, lead=team, text="첫 요구사항을 마련하기 바람.")
    client = client_for(app, auditor)
    assert "첫째팀" in _list(client, audit)
    with recorded(app) as seen:
        assert "첫째팀" in _list(client, audit)
    assert not [s.sql for s in seen if "FROM recommendation" in s.sql], "the rows were kept"

    ops.assign(item, auditor, lead_team=other)  # through the service: the history moves
    db.session.commit()
    page = _list(client, audit)
    assert "둘째팀" in page and "첫째팀" not in page

    make.recommendation(audit=audit, lead=team, text="새로 등록한 요구사항 바람.")
    db.session.commit()
    page = _list(client, audit)
    assert "새로 등록한 요구사항" in page and "검색 결과 2 건" in page


def test_names_changed_without_history_show_at_once(app, make):
    audit = make.audit(title="2025 행정사무감사 옛 이름")
    team = make.team(name="옛이름팀")
    make.recommendation(audit=audit, lead=team)
    client = client_for(app, make.user("audit"))
    assert "옛이름팀" in _list(client, audit)
    assert "옛 이름" in client.get(f"/recommendations?audit={audit.id}").get_data(as_text=True)
    db.session.get(OrgUnit, team.id).name = "새이름팀"  # no history row for either
    db.session.get(Audit, audit.id).title = "2025 행정사무감사 새 이름"
    db.session.get(Audit, audit.id).year = 2031
    db.session.commit()
    page = _list(client, audit)
    assert "새이름팀" in page and "옛이름팀" not in page and "2031" in page  # the rows
    html = client.get(f"/recommendations?audit={audit.id}").get_data(as_text=True)
    assert "새 이름" in html and "옛 이름" not in html  # the audit select


def test_a_part_drawn_for_one_user_is_not_shown_to_another(app, make):
    audit = make.audit()
    mine, theirs = make.team(), make.team()
    make.recommendation(audit=audit, lead=mine, text="우리 팀 요구사항 바람.")
    make.recommendation(audit=audit, lead=theirs, text="다른 팀 요구사항 바람.")
    auditor = client_for(app, make.user("audit"))
    worker = client_for(app, make.user("department", team=mine))
    for _ in range(2):  # each after the other has had the page drawn
        seen_by_auditor = auditor.get(f"/recommendations?audit={audit.id}").get_data(as_text=True)
        seen_by_worker = worker.get(f"/recommendations?audit={audit.id}").get_data(as_text=True)
        assert "다른 팀 요구사항" in seen_by_auditor and "bulk-form" in seen_by_auditor
        assert "다른 팀 요구사항" not in seen_by_worker and "우리 팀 요구사항" in seen_by_worker
        assert "bulk-form" not in seen_by_worker  # no bulk changes for a department
        assert "요구사항 등록" not in seen_by_worker


def test_the_tokens_and_the_user_are_each_requests_own(app, make):
    audit = make.audit()
    make.recommendation(audit=audit)
    first, second = make.user("audit"), make.user("audit")
    pages = {}
    for user in (first, second):
        client = client_for(app, user)
        html = client.get(f"/recommendations?audit={audit.id}").get_data(as_text=True)
        pages[user.name] = html
        # the bulk form's token is the one of this session (the header's form has it too)
        tokens = set(re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', html))
        assert len(tokens) == 1, tokens
    assert first.name in pages[first.name] and second.name not in pages[first.name]
    assert second.name in pages[second.name] and first.name not in pages[second.name]


def test_the_day_is_part_of_the_key(app, make, monkeypatch):
    audit = make.audit()
    auditor = make.user("audit")
    item = make.recommendation(audit=audit)
    ops.set_due_date(item, auditor, date(2030, 1, 10))
    client = client_for(app, auditor)
    monkeypatch.setattr(dates, "today", lambda: date(2030, 1, 8))
    assert "D-2" in _list(client, audit)
    monkeypatch.setattr(dates, "today", lambda: date(2030, 1, 12))
    page = _list(client, audit)
    assert "D+2 (기한 경과)" in page and "D-2" not in page


def test_the_summary_follows_results_and_the_audits_own_words(app, make):
    audit = make.audit()
    team = make.team()
    item = make.recommendation(audit=audit, lead=team, state="in_progress")
    client = client_for(app, make.user("audit"))

    def page() -> str:
        response = client.get(f"/summary?audit={audit.id}")
        assert response.status_code == 200
        return text(response)

    assert "서울AI재단" in page() and "ㅇ 조치 완료" in page()
    ops.edit_result(item, make.user("department", team=team), action_details="ㅇ 새로 고친 내용",
                    future_plan=None)
    db.session.commit()
    assert "ㅇ 새로 고친 내용" in page()
    db.session.get(Audit, audit.id).organisation = "새이름재단"  # no history
    db.session.commit()
    shown = page()
    assert "새이름재단" in shown and "서울AI재단" not in shown
