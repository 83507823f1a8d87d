"""The summary page: the 총괄 table at once, a category's items a page at a time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Recommendation
from auditflow.reports.content import build_report
from auditflow.services import recommendations as ops
from auditflow.vocabulary import Category
from tests.pages_helpers import client_for


def _numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-number="(\d+)">', html)]


def _link(html: str, label: str) -> str | None:
    found = re.search(rf'<a class="page-navi (?:next|prev)" href="([^"]+)">{label}</a>', html)
    return unescape(found.group(1)) if found else None


def test_a_large_category_comes_in_pages_and_every_item_is_reached(app, make):
    audit = make.audit()
    team = make.team()
    for number in range(1, 46):
        make.recommendation(audit=audit, lead=team, number=number, category=Category.CORRECTIVE,
                            text=f"시정 항목 {number:02d}번")
    for number in range(46, 49):
        make.recommendation(audit=audit, lead=team, number=number, category=Category.OTHER)
    client = client_for(app, make.user("liaison"))

    first = client.get(f"/summary?audit={audit.id}").get_data(as_text=True)
    assert "총 48건" in unescape(first)  # the table counts every item
    assert _numbers(first) == list(range(1, 21))  # the page shows twenty
    assert "시정·처리 요구사항 (45건)" in first and "기타 사항 (3건)" in first
    seen, html = list(_numbers(first)), first
    while (following := _link(html, "다음")) is not None:
        html = client.get(following).get_data(as_text=True)
        seen += _numbers(html)
    assert seen == list(range(1, 46))
    assert _numbers(html) == list(range(41, 46)) and "3 / 3" in html
    back = client.get(_link(html, "이전")).get_data(as_text=True)
    assert _numbers(back) == list(range(21, 41)) and "2 / 3" in back
    other = client.get(f"/summary?audit={audit.id}&section=other").get_data(as_text=True)
    assert _numbers(other) == [46, 47, 48] and _link(other, "다음") is None


def test_a_page_as_of_a_day_shows_the_items_as_they_were(app, make):
    """An item moved to another category since: as of the day before, it is in its old
    category's page with its old text; today, in the new one."""
    audit = make.audit()
    auditor = make.user("audit")
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    for number in range(1, 26):
        ops.register(audit, number=number, category=Category.SUGGESTION,
                     council_text=f"그때의 내용 {number}", actor=auditor, at=three_days_ago)
    moved = db.session.scalar(db.select(Recommendation).filter_by(audit_id=audit.id, number=3))
    ops.edit_text(moved, auditor, council_text="나중의 내용", category=Category.OTHER)
    db.session.commit()
    client = client_for(app, auditor)
    before = (dates.today() - timedelta(days=1)).isoformat()

    then = client.get(f"/summary?audit={audit.id}&as_of={before}").get_data(as_text=True)
    assert _numbers(then) == list(range(1, 21)) and "그때의 내용 3" in then
    rest = client.get(_link(then, "다음")).get_data(as_text=True)
    assert _numbers(rest) == list(range(21, 26)) and "as_of=" + before in _link(rest, "이전")
    now = client.get(f"/summary?audit={audit.id}").get_data(as_text=True)
    assert 3 not in _numbers(now) and "기타 사항 (1건)" in now
    other = client.get(f"/summary?audit={audit.id}&section=other").get_data(as_text=True)
    assert _numbers(other) == [3] and "나중의 내용" in other
    # The page's words are the report's, page by page.
    report = build_report(audit, dates.today() - timedelta(days=1))
    section = report.sections[0]
    assert [item.number for item in section.items] == list(range(1, 26))
    for item in section.items[:20]:
        assert item.council_text in then
