"""Screens fixed where they were found broken (at 1440 and 390 px wide); what the server
sends for them. How they look is checked in the browser (tests/browser/)."""

from __future__ import annotations

import base64
import hashlib
import re

from tests.pages_helpers import client_for


def test_the_menu_marks_one_page_current(app, make):
    client = client_for(app, make.user("audit"))
    for path, label in (("/status/open", "미완료 과제"), ("/status/teams", "부서별 현황"),
                        ("/recommendations", "요구사항")):
        html = client.get(path).get_data(as_text=True)
        menu = html[html.index('class="app-nav"'):html.index("</nav>", html.index('class="app-nav"'))]
        current = re.findall(r'aria-current="page" class="active">([^<]+)<', menu)
        assert current == [label], (path, current)
    item = make.recommendation()
    html = client.get(f"/recommendations/{item.id}").get_data(as_text=True)
    assert re.findall(r'aria-current="page" class="active">([^<]+)<', html) == ["요구사항"]


def test_required_fields_carry_their_korean_message(app, make):
    rec = make.recommendation(state="reviewing")
    client = client_for(app, make.user("audit"))
    html = client.get(f"/recommendations/{rec.id}").get_data(as_text=True)
    assert 'required data-required-message="보완 요청 사유를 입력하세요."' in html
    assert 'data-required-message="\'확인했습니다\'에 표시하세요."' in html
    assert 'data-required-message="의견을 입력하세요."' in html  # from the form's own validator
    # No form that asks for a field lets the browser answer in its own (English) words.
    forms = re.findall(r"(<form\b[^>]*>)(.*?)</form>", html, flags=re.S)
    asking = [tag for tag, body in forms if re.search(r"\srequired[\s>]", body)]
    assert len(asking) >= 3
    for tag in asking:
        assert "novalidate" in tag, tag
    login = app.test_client().get("/login").get_data(as_text=True)
    assert 'data-required-message="아이디를 입력하세요."' in login


def test_lists_become_cards_on_a_phone_and_scrolling_tables_take_the_keyboard(app, make):
    team = make.team()
    make.recommendation(lead=team, state="in_progress")
    client = client_for(app, make.user("department", team=team))
    for path in ("/", "/recommendations"):
        html = client.get(path).get_data(as_text=True)
        assert "card-table" in html, path
        assert 'data-label="상태" class="card-key"' in html and 'data-label="기한" class="card-key"' in html
        for wrap in re.findall(r'<div class="krds-table-wrap"[^>]*>', html):
            assert 'tabindex="0"' in wrap and 'role="region"' in wrap and "aria-label=" in wrap


def test_the_summary_prints_the_whole_report(app, make):
    """The page shows a page of items; 인쇄 opens the whole report, which prints itself."""
    rec = make.recommendation()
    client = client_for(app, make.user("liaison"))
    html = client.get("/summary").get_data(as_text=True)
    link = re.search(r'<a class="krds-btn primary small" href="([^"]+)">인쇄<', html)
    assert link, html
    url = link.group(1).replace("&amp;", "&")
    assert url.startswith(f"/summary/{rec.audit_id}/print?as_of=")
    printed = client.get(url)
    assert printed.status_code == 200 and printed.mimetype == "text/html"
    document = printed.get_data(as_text=True)
    assert '<script src="/assets/ui/print.js" defer></script></head>' in document
    assert rec.council_text in document and "attachment" not in printed.headers.get(
        "Content-Disposition", "")
    # Its own stylesheet (inline in the document) is let through by its hash, nothing else is.
    policy = printed.headers["Content-Security-Policy"]
    styles = re.findall(r"<style[^>]*>(.*?)</style>", document, re.S)
    assert styles and "unsafe-inline" not in policy
    for css in styles:
        digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert policy.count("'sha256-") == len(styles)
