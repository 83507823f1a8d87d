"""The status pages: who may open them, what they show, and bad filters refused in Korean."""

from __future__ import annotations

from datetime import timedelta
from html import unescape
from html.parser import HTMLParser

import pytest

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Audit
from auditflow.services import recommendations as ops
from tests.auth_helpers import login
from tests.conftest import DEMO_PASSWORD
from tests.factories import PASSWORD

PAGES = ("/status/teams", "/status/open")


class _Cells(HTMLParser):
    """The text of each row of the page's data table: [[cell, ...], ...]."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._in_table = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._in_table = True
        elif self._in_table and tag == "tr":
            self.rows.append([])
        elif self._in_table and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._in_table = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table_rows(html: str) -> list[list[str]]:
    parser = _Cells()
    parser.feed(html)
    return parser.rows


def signed_in(app, user: str, password: str = DEMO_PASSWORD):
    client = app.test_client()
    response = login(client, user, password)
    assert response.status_code == 303, f"{user} could not sign in"
    return client


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_is_sent_to_sign_in(app, seeded, path):
    response = app.test_client().get(path)
    assert response.status_code in (302, 303)
    assert "/login" in response.location


@pytest.mark.parametrize("path", PAGES)
def test_a_department_is_refused(app, seeded, path):
    client = signed_in(app, "ai-companion")
    assert client.get(path).status_code == 403
    assert client.get(path + "?audit=all").status_code == 403


@pytest.mark.parametrize("user", ["audit", "liaison", "admin"])
@pytest.mark.parametrize("path", PAGES)
def test_readers_may_open(app, seeded, user, path):
    assert signed_in(app, user).get(path).status_code == 200


def test_teams_page_of_the_seed(app, seeded):
    audit = db.session.scalar(db.select(Audit))
    client = signed_in(app, "liaison")
    response = client.get(f"/status/teams?audit={audit.id}&as_of=2026-01-31")
    assert response.status_code == 200
    html = unescape(response.get_data(as_text=True))
    assert "'26.1.31. 기준" in html
    assert "주관 부서 기준" in html  # the counting rule is stated on the page
    rows = table_rows(html)
    header, total, *teams = rows
    assert header[:4] == ["부서", "계", "완료", "추진 중"]
    assert header[-2:] == ["기한 경과", "협조"]
    assert total[:4] == ["계", "12", "11", "1"]
    assert sum(int(row[1] or 0) for row in teams) == 12
    assert any(row[0] == "AI동행팀" for row in teams)


def test_teams_page_defaults_to_the_latest_audit_and_covers_all_open_items(app, seeded):
    client = signed_in(app, "audit")
    html = client.get("/status/teams").get_data(as_text=True)
    assert "2025 행정사무감사" in html
    assert table_rows(html)[1][:2] == ["계", "12"]
    html = client.get("/status/teams?audit=all").get_data(as_text=True)
    assert "전체 감사의 미완료 요구사항" in html
    header, total, *_ = table_rows(html)
    assert "완료" not in header  # only open states across audits
    assert total[:2] == ["계", "1"]


def test_the_date_before_anything_happened_shows_nothing(app, seeded):
    client = signed_in(app, "audit")
    html = client.get("/status/teams?as_of=2025-11-10").get_data(as_text=True)
    assert table_rows(html)[1][:2] == ["계", ""]  # zeros are blank, as in the document
    assert "해당하는 요구사항이 없습니다" in html


@pytest.mark.parametrize("query, message", [
    ("as_of=2026-13-01", "올바르지 않은 날짜 값입니다"),
    ("as_of=어제", "올바르지 않은 날짜 값입니다"),
    ("audit=99999", "올바르지 않은 선택값입니다"),
])
def test_bad_filters_get_a_korean_message(app, seeded, query, message):
    response = signed_in(app, "audit").get(f"/status/teams?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_open_items_page_filters_and_pages(app, make):
    team = make.team("가팀")
    other = make.team("나팀")
    auditor = make.user("audit", login="auditor-x")
    today = dates.today()
    for year in (2023, 2024):
        audit = make.audit(year)
        for n in range(1, 31):
            lead = team if n % 2 else other
            item = ops.register(audit, number=n, category="suggestion",
                                council_text=f"{year}년 요구 {n}", actor=auditor, lead_team=lead,
                                at=dates.at_local(today - timedelta(days=(2025 - year) * 300 + n)))
            if n % 3 == 0:
                ops.set_due_date(item, auditor, today - timedelta(days=n))
    db.session.commit()
    client = signed_in(app, "auditor-x", PASSWORD)

    first = client.get("/status/open")
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert "미완료 <strong>60</strong>건" in html
    assert "기한 경과 <strong>20</strong>건" in html
    rows = table_rows(html)[1:]
    assert len(rows) == 50
    # Oldest first: 2023's item 30 was registered first.
    assert rows[0][:2] == ["2023 " + db.session.scalar(
        db.select(Audit.title).filter_by(year=2023)), "30"]
    assert 'href="/status/open?page=2"' in html

    second = client.get("/status/open?page=2").get_data(as_text=True)
    assert len(table_rows(second)) - 1 == 10

    overdue = client.get(f"/status/open?team={team.id}&overdue=1").get_data(as_text=True)
    rows = table_rows(overdue)[1:]
    assert len(rows) == 10  # odd multiples of 3 up to 30, two audits
    assert all(row[4] == "가팀" and "기한 경과" in row[7] for row in rows)

    bad = client.get("/status/open?team=abc")
    assert bad.status_code == 400
    assert "올바르지 않은 선택값입니다" in bad.get_data(as_text=True)
