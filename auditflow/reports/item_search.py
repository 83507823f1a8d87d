"""The recommendation list: filters in the query, a page at a time (the list page and the API).

Stays fast with 100,000 items: every filter but the text search hits an
index; the pager moves by key (the edge of the neighbouring page, ``after`` /
``before``), never by skipping rows, so page 5,000 costs what page 1 does;
teams and audits of the page are loaded with one extra query each
(selectinload), not one per row. The
total is counted only when no text search is given: a count over a LIKE '%…%'
scan would read every row again, so the text search shows "다음" instead of a
page count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload, undefer

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Recommendation
from auditflow.paging import Page
from auditflow.params import small_int
from auditflow.permissions import Actor
from auditflow.reports import text_search
from auditflow.vocabulary import CLOSED

PER_PAGE = 20


@dataclass
class Filters:
    audit_id: int | None = None
    category: str | None = None
    state: str | None = None
    team_id: int | None = None
    overdue: bool = False
    q: str = ""

    def conditions(self, user: Actor, today: date | None = None) -> list[Any]:
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
        text = self.q.strip()
        if text:
            conditions.append(text_search.contains(text))
        return conditions


ORDER = (Recommendation.audit_id.desc(), Recommendation.number)
REVERSED = (Recommendation.audit_id, Recommendation.number.desc())


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
    conditions = filters.conditions(user, today)
    total = None
    if not filters.q.strip():
        total = db.session.scalar(select(func.count(Recommendation.id)).where(*conditions))
    start, end = parse_cursor(after), parse_cursor(before)
    number = max(1, number)
    if start is None and end is None and not last:
        rows = _rows(conditions, ORDER, per_page + 1, offset=(number - 1) * per_page)
        page_rows, has_next, has_prev = rows[:per_page], len(rows) > per_page, number > 1
    elif start is not None:
        audit_id, item_number = start
        rows = _rows([*conditions, or_(Recommendation.audit_id < audit_id,
                                       (Recommendation.audit_id == audit_id)
                                       & (Recommendation.number > item_number))],
                     ORDER, per_page + 1)
        page_rows, has_next, has_prev = rows[:per_page], len(rows) > per_page, True
    else:
        if last:
            size = per_page if not total else (total - 1) % per_page + 1
            number = max(1, -(-(total or 0) // per_page))
            rows = _rows(conditions, REVERSED, size)
            has_prev = total is None or total > size
        else:
            assert end is not None
            audit_id, item_number = end
            size = per_page
            rows = _rows([*conditions, or_(Recommendation.audit_id > audit_id,
                                           (Recommendation.audit_id == audit_id)
                                           & (Recommendation.number < item_number))],
                         REVERSED, per_page + 1)
            has_prev = len(rows) > per_page
        page_rows, has_next = list(reversed(rows[:size])), not last
        if not has_prev:
            number = 1
    return Page(items=page_rows, number=number, per_page=per_page, has_next=has_next,
                total=total,
                next_after=cursor_of(page_rows[-1]) if has_next and page_rows else None,
                prev_before=cursor_of(page_rows[0]) if has_prev and page_rows else None)


def _rows(conditions: list[Any], order: tuple[Any, ...], limit: int,
          offset: int = 0) -> list[Recommendation]:
    stmt = select(Recommendation).where(*conditions).order_by(*order).limit(limit)
    if offset:
        stmt = stmt.offset(offset)
    return list(db.session.scalars(
        stmt.options(
            selectinload(Recommendation.audit),
            selectinload(Recommendation.lead_team),
            selectinload(Recommendation.supporting_teams),
            undefer(Recommendation.last_trigger),
        )))


def matching(user: Actor, filters: Filters, limit: int) -> list[Recommendation]:
    """Every item the filters select for this user, in the list's order (at most ``limit``)."""
    return list(db.session.scalars(
        select(Recommendation).where(*filters.conditions(user))
        .order_by(Recommendation.audit_id.desc(), Recommendation.number).limit(limit)
        .options(selectinload(Recommendation.audit), selectinload(Recommendation.lead_team),
                 selectinload(Recommendation.supporting_teams),
                 undefer(Recommendation.last_trigger))))


def visible_items(user: Actor, ids: list[int]) -> list[Recommendation]:
    """The items of ``ids`` this user may see (the others are simply not there)."""
    if not ids:
        return []
    return list(db.session.scalars(
        select(Recommendation).where(Recommendation.id.in_(ids), Recommendation.visible_to(user))
        .options(selectinload(Recommendation.audit), selectinload(Recommendation.lead_team),
                 selectinload(Recommendation.supporting_teams),
                 undefer(Recommendation.last_trigger))))
