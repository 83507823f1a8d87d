"""The recommendation list: filters in the query, a page at a time (the list page and the API).

Stays fast with 100,000 items: the list is read in its order from an index
(``ix_recommendation_list_order``) and every filter hits one; the pager moves by
key (the edge of the neighbouring page, ``after`` / ``before``), never by
skipping rows, so page 5,000 costs what page 1 does; teams and audits of the
page are loaded with one extra query each (selectinload), not one per row. A
text search first tests the items at the head of the list (``_probe``: a common
term fills the page there) and otherwise asks the text index
(``reports.text_search``). The total is counted only when no text search is
given: a count of every match would find them all, so the text search shows
"다음" instead of a page count."""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import selectinload, undefer

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Recommendation
from auditflow.paging import Page
from auditflow.params import small_int
from auditflow.permissions import Actor
from auditflow.reports import memo, text_search
from auditflow.vocabulary import CLOSED

PER_PAGE = 20
# A text search reads this many items in the list's order before it asks the index (_probe).
PROBE_ROWS = 1000


@dataclass
class Filters:
    audit_id: int | None = None
    category: str | None = None
    state: str | None = None
    team_id: int | None = None
    overdue: bool = False
    q: str = ""

    def key(self, today: date | None = None) -> tuple[Any, ...]:
        """What the conditions depend on, but the user (``Recommendation.visibility_key``):
        the filters, and the day when only the overdue are asked for."""
        return (astuple(self), (today or dates.today()) if self.overdue else None)

    def conditions(self, user: Actor, today: date | None = None, *,
                   text: bool = True) -> list[Any]:
        """The filters as SQL; without the text search when ``text`` is false."""
        conditions = [Recommendation.visible_to(user)]
        if self.audit_id:
            conditions.append(Recommendation.audit_id == self.audit_id)
        if self.category:
            conditions.append(Recommendation.category == self.category)
        if self.state:
            conditions.append(Recommendation.state == self.state)
        if self.team_id:
            conditions.append(Recommendation.assigned_to_team(self.team_id))
        if self.overdue:
            conditions.append(Recommendation.due_date < (today or dates.today()))
            conditions.append(Recommendation.state.not_in([state.value for state in CLOSED]))
        if text and self.q.strip():
            conditions.append(text_search.contains(self.q.strip()))
        return conditions


ORDER = (Recommendation.audit_id.desc(), Recommendation.number)


def cursor_of(item: Recommendation) -> str:
    return f"{item.audit_id}.{item.number}"


def parse_cursor(text: str | None) -> tuple[int, int] | None:
    """``"12.34"`` → (audit 12, number 34); anything else → None (the first page)."""
    audit, _, number = (text or "").partition(".")
    audit_id, item_number = small_int(audit), small_int(number)
    if audit_id is None or item_number is None:
        return None
    return audit_id, item_number


def search(user: Actor, filters: Filters, number: int = 1, per_page: int = PER_PAGE,
           today: date | None = None, *, after: str | None = None,
           before: str | None = None, last: bool = False) -> Page[Recommendation]:
    """A page of the list. With ``after``/``before`` (a neighbouring page's edge) or ``last``
    the page is found by its key, not by skipping rows, so the deepest costs what the
    first does; a bare page ``number`` still works (skipping) for old links."""
    conditions = filters.conditions(user, today, text=False)
    term = filters.q.strip()
    total = None
    if not term:  # kept while the history stands still (reports/memo.py)
        total = memo.remembered(
            ("list total", Recommendation.visibility_key(user), filters.key(today)),
            lambda: db.session.scalar(select(func.count(Recommendation.id)).where(*conditions)))
    start, end = parse_cursor(after), parse_cursor(before)
    number = max(1, number)
    if start is None and end is None and not last:
        rows = _rows(conditions, True, per_page + 1, term, offset=(number - 1) * per_page)
        page_rows, has_next, has_prev = rows[:per_page], len(rows) > per_page, number > 1
    elif start is not None:
        rows = _rows(conditions, True, per_page + 1, term, edge=start)
        page_rows, has_next, has_prev = rows[:per_page], len(rows) > per_page, True
    else:
        if last:
            size = per_page if not total else (total - 1) % per_page + 1
            number = max(1, -(-(total or 0) // per_page))
            rows = _rows(conditions, False, size, term)
            has_prev = total is None or total > size
        else:
            assert end is not None
            size = per_page
            rows = _rows(conditions, False, per_page + 1, term, edge=end)
            has_prev = len(rows) > per_page
        page_rows, has_next = list(reversed(rows[:size])), not last
        if not has_prev:
            number = 1
    return Page(items=page_rows, number=number, per_page=per_page, has_next=has_next,
                total=total,
                next_after=cursor_of(page_rows[-1]) if has_next and page_rows else None,
                prev_before=cursor_of(page_rows[0]) if has_prev and page_rows else None)


def _order(columns: Any, forward: bool) -> tuple[Any, ...]:
    """The list's order (``forward``) or its reverse, over ``columns`` (a table or subquery)."""
    if forward:
        return columns.audit_id.desc(), columns.number
    return columns.audit_id, columns.number.desc()


def _ranges(edge: tuple[int, int] | None, forward: bool) -> list[list[Any]]:
    """The items past ``edge`` in the list's order (or before it, backwards) as ranges of
    the list's index, each read in order: the rest of the edge's audit, then the audits
    after it. One condition with OR would read the edge's audit from its first item."""
    if edge is None:
        return [[]]
    audit_id, item_number = edge
    if forward:
        return [[Recommendation.audit_id == audit_id, Recommendation.number > item_number],
                [Recommendation.audit_id < audit_id]]
    return [[Recommendation.audit_id == audit_id, Recommendation.number < item_number],
            [Recommendation.audit_id > audit_id]]


def _ids(conditions: list[Any], forward: bool, limit: int, *,
         edge: tuple[int, int] | None = None, offset: int = 0, texts: bool = False) -> Any:
    """SELECT the ids of the first ``limit`` items meeting ``conditions`` past ``edge``, in
    order (a subquery with ``id``, ``audit_id``, ``number`` and, with ``texts``, the
    searched texts)."""
    shown: list[Any] = [Recommendation.id, Recommendation.audit_id, Recommendation.number]
    if texts:
        shown += [Recommendation.__table__.c[name] for name in text_search.SEARCHED]
    parts = []
    for extra in _ranges(edge, forward):
        part = (select(*shown).where(*conditions, *extra)
                .order_by(*_order(Recommendation, forward)).limit(limit + offset))
        parts.append(part)
    if len(parts) == 1:
        return parts[0].offset(offset).subquery() if offset else parts[0].subquery()
    both = union_all(*(select(part.subquery()) for part in parts)).subquery()
    return select(both).order_by(*_order(both.c, forward)).limit(limit).subquery()


def _rows(conditions: list[Any], forward: bool, limit: int, term: str = "", *,
          edge: tuple[int, int] | None = None, offset: int = 0) -> list[Recommendation]:
    """The first ``limit`` items in order (``forward`` or back) past ``edge``, meeting
    ``conditions`` and containing ``term``: their ids first, then the rows shown."""
    found = _probe(conditions, forward, limit, term, edge) if term and not offset else None
    if found is None:
        if term:
            conditions = [*conditions, text_search.contains(term)]
        page = _ids(conditions, forward, limit, edge=edge, offset=offset)
        found = list(db.session.scalars(select(page.c.id).order_by(*_order(page.c, forward))))
    if not found:
        return []
    return list(db.session.scalars(
        select(Recommendation).where(Recommendation.id.in_(found))
        .order_by(*_order(Recommendation, forward)).options(*_SHOWN)))


def _probe(conditions: list[Any], forward: bool, limit: int, term: str,
           edge: tuple[int, int] | None) -> list[int] | None:
    """A term in many items, found without the index: the first ``PROBE_ROWS`` items in the
    list's order are tested one by one (``text_search.substring``, the reference answer).
    When ``limit`` of them contain it, they are the page: every earlier item was tested.
    Otherwise (a rare term, or none) None, and the index answers. A term in every item is
    otherwise the index's worst case: all of them found, then sorted for one page."""
    # The test is on the window's own rows: below its LIMIT no database may move it (on
    # PostgreSQL a join would let the planner ask the text index for every match first).
    window = _ids(conditions, forward, PROBE_ROWS, edge=edge, texts=True)
    found = list(db.session.scalars(
        select(window.c.id).where(text_search.substring(term, window))
        .order_by(*_order(window.c, forward)).limit(limit)))
    return found if len(found) == limit else None


# What a row of the list shows, loaded with one query each, not one per row.
_SHOWN = (selectinload(Recommendation.audit), selectinload(Recommendation.lead_team),
          selectinload(Recommendation.supporting_teams), undefer(Recommendation.last_trigger))


def matching(user: Actor, filters: Filters, limit: int) -> list[Recommendation]:
    """Every item the filters select for this user, in the list's order (at most ``limit``)."""
    return list(db.session.scalars(
        select(Recommendation).where(*filters.conditions(user))
        .order_by(*ORDER).limit(limit).options(*_SHOWN)))


def visible_items(user: Actor, ids: list[int]) -> list[Recommendation]:
    """The items of ``ids`` this user may see (the others are simply not there)."""
    if not ids:
        return []
    return list(db.session.scalars(
        select(Recommendation).where(Recommendation.id.in_(ids), Recommendation.visible_to(user))
        .options(*_SHOWN)))
