"""Pages load what they show in a fixed number of SQL statements, however much there is.

Each page is asked for over a small world and over one ten times larger (more items,
teams, history rows, comments); the statements one request runs are counted with
SQLAlchemy's ``before_cursor_execute`` and must not grow with the data.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Audit, Recommendation, User
from auditflow.reports import memo
from auditflow.services import comments
from auditflow.services import recommendations as ops
from auditflow.vocabulary import Category
from tests.conftest import DatabaseSnapshot
from tests.pages_helpers import client_for
from tests.sql_helpers import recorded


def _world(make: Any, backend: Any, size: int) -> dict[str, Any]:
    """``_make_world(size)`` over what the database holds: made by the first test of a
    backend and worker to ask, then copied (``DatabaseSnapshot``). Each test asks for the
    small world in an empty database, then for the large one over the small one (and the
    small one's sign-in), as the first test made them."""
    name = f"statement_counts_{size}"
    snapshot = backend.snapshots.get(name)
    if snapshot is None:
        made = _make_world(make, size)
        ids = {"audit": made["audit"].id, "busy": made["busy"].id, "auditor": made["auditor"].id}
        snapshot = DatabaseSnapshot.take(backend, name, ids)
    else:
        snapshot.restore()
    return {"audit": db.session.get(Audit, snapshot.payload["audit"]),
            "busy": db.session.get(Recommendation, snapshot.payload["busy"]),
            "auditor": db.session.get(User, snapshot.payload["auditor"])}


def _make_world(make: Any, size: int) -> dict[str, Any]:
    """``size`` items of one audit over ``size`` teams, each with supporting teams, due
    dates, results and comments; one item reassigned through every team."""
    audit = make.audit()
    teams = [make.team() for _ in range(size)]
    auditor = make.user("audit")
    items = []
    for number in range(1, size + 1):
        lead = teams[number % size]
        rec = make.recommendation(audit=audit, lead=lead, number=number,
                                  supporting=[teams[(number + 1) % size]],
                                  category=list(Category)[number % 3],
                                  state="in_progress" if number % 2 else "received")
        ops.set_due_date(rec, auditor, dates.today() + timedelta(days=number))
        comments.add(rec, auditor, f"의견 {number}")
        items.append(rec)
    busy = items[0]
    for index, team in enumerate(teams):
        ops.assign(busy, auditor, lead_team=team, reason="담당 조정",
                   supporting_teams=[teams[(index + 1) % size], teams[(index + 2) % size]])
        ops.set_due_date(busy, auditor, dates.today() + timedelta(days=30 + index),
                         reason="일정 조정")
        comments.add(busy, auditor, f"추가 의견 {index}")
    db.session.commit()
    return {"audit": audit, "busy": busy, "auditor": auditor}


PAGES = {
    "item": lambda w: f"/recommendations/{w['busy'].id}",
    "list": lambda w: f"/recommendations?audit={w['audit'].id}",
    "list, a team": lambda w: f"/recommendations?audit=&team={w['busy'].lead_team_id}",
    "list, a search": lambda w: f"/recommendations?audit={w['audit'].id}&q=방안을",
    "summary": lambda w: f"/summary?audit={w['audit'].id}",
    "home": lambda w: "/",
}


def _statements(app: Any, make: Any, backend: Any, size: int, path_of: Any, *,
                kept: bool = False) -> list[str]:
    """The statements of one request of the page, drawn afresh, or (``kept``) with what the
    process kept of it while the history stood still (reports/memo.py, web/parts.py)."""
    world = _world(make, backend, size)
    client = client_for(app, world["auditor"])
    path = path_of(world)
    assert client.get(path).status_code == 200  # warm: the session's own statements settle
    if not kept:
        memo.forget()
    with recorded(app) as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return [statement.sql for statement in statements]


@pytest.mark.parametrize("kept", [False, True], ids=["drawn", "kept"])
@pytest.mark.parametrize("page", PAGES)
def test_statements_per_page_do_not_grow_with_the_data(app, make, backend, page, kept):
    small = _statements(app, make, backend, 3, PAGES[page], kept=kept)
    large = _statements(app, make, backend, 30, PAGES[page], kept=kept)
    # Never more with more items (a statement per row would be). A text search may need one
    # fewer: a common term fills the page from the head of the list (item_search._probe).
    fewer = page == "list, a search" and len(large) == len(small) - 1
    assert len(large) == len(small) or fewer, "\n".join(
        [f"{page}: {len(small)} statements with 3 items, {len(large)} with 30:", *large])


@pytest.mark.parametrize("page", ["list", "summary"])
def test_the_choices_of_the_filters_are_read_once_per_request(app, make, backend, page):
    statements = _statements(app, make, backend, 3, PAGES[page])
    teams = [s for s in statements if "FROM org_unit" in s and "org_unit.kind !=" in s]
    audits = [s for s in statements if "FROM audit" in s and "audit.year DESC" in s]
    assert len(teams) <= 1 and len(audits) <= 1, statements


@pytest.mark.parametrize("page", ["list", "list, a team", "list, a search", "summary"])
def test_a_kept_page_reads_less_than_one_drawn_afresh(app, make, backend, page):
    """The list's rows and the summary's table and items are kept; the item page is each
    user's own (its actions and forms) and is drawn every time, in a fixed number."""
    drawn = _statements(app, make, backend, 30, PAGES[page])
    kept = _statements(app, make, backend, 30, PAGES[page], kept=True)
    assert len(kept) < len(drawn), "\n".join([f"{page}: {len(kept)} kept, {len(drawn)} drawn", *kept])
    assert not [s for s in kept if "FROM recommendation" in s and "chain" not in s], kept
