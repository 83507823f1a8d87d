"""Open items across years (auditflow.reports.open_items): nothing open is lost, oldest first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from auditflow import dates
from auditflow.extensions import db
from auditflow.reports.open_items import open_items
from auditflow.services import recommendations as ops
from auditflow.vocabulary import Category, State


@pytest.fixture
def carried(make):
    """Items of three audits registered on different days; some closed, some overdue."""
    a, b = make.team("가팀"), make.team("나팀")
    auditor = make.user("audit")
    today = dates.today()
    audits = {year: make.audit(year) for year in (2023, 2024, 2025)}
    plan = [
        # year, registered (days ago), lead, supporting, state, due (days from today)
        (2023, 900, a, [], "in_progress", -500),
        (2023, 899, b, [], "completed", -600),
        (2023, 898, b, [a], "reviewing", None),
        (2024, 500, a, [], "not_reflected", -100),
        (2024, 450, b, [], "received", 20),
        (2025, 100, a, [b], "in_progress", -1),
        (2025, 90, b, [], "in_progress", 0),
        (2025, 80, a, [], "completed", 10),
        (2025, 3, b, [], "received", -2),
    ]
    items = []
    for number, (year, ago, lead, supporting, state, due) in enumerate(plan, start=1):
        item = ops.register(audits[year], number=number, category=Category.SUGGESTION,
                            council_text=f"요구 {number}", actor=auditor, lead_team=lead,
                            supporting_teams=supporting,
                            at=dates.at_local(today - timedelta(days=ago), 9))
        make.advance(item, state, auditor)
        if due is not None:
            ops.set_due_date(item, auditor, today + timedelta(days=due), reason="테스트")
        items.append(item)
    db.session.commit()
    return {"a": a, "b": b, "items": items, "today": today, "audits": audits}


def _plain_open(items):
    return [item for item in items if item.state not in ("completed", "not_reflected")]


def test_every_open_item_of_every_audit_oldest_first(carried):
    page = open_items()
    expected = _plain_open(carried["items"])
    assert page.total == len(expected) == 6
    assert [item.id for item in page.items] == [item.id for item in expected]
    assert {item.state for item in page.items} <= {State.RECEIVED, State.IN_PROGRESS,
                                                   State.REVIEWING}
    first = page.items[0]
    assert (first.audit_year, first.number, first.age_days) == (2023, 1, 900)
    assert first.lead_team == "가팀"
    assert [item.age_days for item in page.items] == [900, 898, 450, 100, 90, 3]


def test_overdue_is_due_date_before_today(carried):
    page = open_items()
    today = carried["today"]
    expected = {item.id for item in _plain_open(carried["items"])
                if item.due_date is not None and item.due_date < today}
    assert {item.id for item in page.items if item.overdue} == expected
    assert page.overdue_total == len(expected) == 3
    only = open_items(overdue_only=True)
    assert {item.id for item in only.items} == expected
    assert only.total == only.overdue_total == 3
    # Due today is not overdue yet.
    due_today = next(item for item in page.items if item.due_date == today)
    assert not due_today.overdue


def test_filter_by_team_lead_or_also_supporting(carried):
    a = carried["a"]
    led = open_items(team_id=a.id)
    assert [item.number for item in led.items] == [1, 6]
    with_support = open_items(team_id=a.id, include_supporting=True)
    assert [item.number for item in with_support.items] == [1, 3, 6]
    assert open_items(team_id=a.id, overdue_only=True).total == 2


def test_pagination_counts_all_pages(carried):
    seen = []
    first = open_items(per_page=4)
    assert (first.total, first.pages, first.number, first.has_next, first.has_prev) == (6, 2, 1,
                                                                                         True, False)
    seen += [item.id for item in first.items]
    second = open_items(per_page=4, page=2)
    assert (second.number, second.has_next, second.has_prev) == (2, False, True)
    seen += [item.id for item in second.items]
    assert seen == [item.id for item in open_items().items]
    assert open_items(per_page=4, page=99).number == 2  # past the end: the last page
    assert open_items(per_page=4, page=0).number == 1


def test_an_item_leaves_the_list_when_closed(carried, make):
    item = next(item for item in carried["items"] if item.state == "reviewing")
    before = open_items().total
    auditor = make.user("audit")
    ops.fire(item, "approve", auditor, reason="증빙 불필요")
    db.session.commit()
    assert open_items().total == before - 1
    assert item.id not in [row.id for row in open_items().items]


def test_seed_has_one_open_item(seeded):
    page = open_items()
    assert page.total == 1
    assert page.items[0].state == State.IN_PROGRESS
    assert page.items[0].audit_year == 2025
