"""The recommendation list: filters in the query, a page at a time.

Stays fast with 100,000 items: every filter but the text search hits an
index; a page is LIMIT/OFFSET over an indexed order; teams and audits of the
page are loaded with one extra query each (selectinload), not one per row. The
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
from auditflow.permissions import Actor
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
            conditions.append(
                or_(
                    Recommendation.council_text.icontains(text, autoescape=True),
                    Recommendation.action_details.icontains(text, autoescape=True),
                    Recommendation.future_plan.icontains(text, autoescape=True),
                )
            )
        return conditions


def search(user: Actor, filters: Filters, number: int = 1, per_page: int = PER_PAGE,
           today: date | None = None) -> Page[Recommendation]:
    number = max(1, number)
    conditions = filters.conditions(user, today)
    stmt = (
        select(Recommendation)
        .where(*conditions)
        .order_by(Recommendation.audit_id.desc(), Recommendation.number)
        .limit(per_page + 1)
        .offset((number - 1) * per_page)
        .options(
            selectinload(Recommendation.audit),
            selectinload(Recommendation.lead_team),
            selectinload(Recommendation.supporting_teams),
            undefer(Recommendation.last_trigger),
        )
    )
    rows = list(db.session.scalars(stmt))
    total = None
    if not filters.q.strip():
        total = db.session.scalar(select(func.count(Recommendation.id)).where(*conditions))
    return Page(items=rows[:per_page], number=number, per_page=per_page,
                has_next=len(rows) > per_page, total=total)


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
