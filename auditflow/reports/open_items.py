"""Open items across years: every recommendation not completed and not declined, from all audits.

Items carried over from an earlier audit stay on this list until they are
closed, oldest first, with their age in days (since they were registered) and
whether their due date has passed. The list is the current state of things (as
of today in the body's time zone); filtering, counting and paging happen in the
database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import aliased, undefer

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Audit, OrgUnit, Recommendation
from auditflow.paging import Page, clamp
from auditflow.reports import memo
from auditflow.vocabulary import CLOSED, Category, State

PER_PAGE = 50


@dataclass(frozen=True)
class OpenItem:
    id: int
    audit_id: int
    audit_year: int
    audit_title: str
    number: int
    category: Category
    council_text: str
    lead_team: str | None
    state: State
    registered_on: date
    age_days: int
    due_date: date | None
    overdue: bool
    returned: bool = False  # back with its team for rework (보완 요청)


@dataclass(kw_only=True)
class OpenItemsPage(Page[OpenItem]):
    overdue_total: int  # of the items matching the filters (every page), the overdue ones
    today: date


def _filtered(today: date, *, team_id: int | None, overdue_only: bool,
              audit_id: int | None, include_supporting: bool) -> Select[Recommendation, Audit, str]:
    lead = aliased(OrgUnit)
    query = (
        select(Recommendation, Audit, lead.name)
        .join(Audit, Recommendation.audit_id == Audit.id)
        .outerjoin(lead, Recommendation.lead_team_id == lead.id)
        .where(Recommendation.state.not_in([state.value for state in CLOSED]))
    )
    if audit_id is not None:
        query = query.where(Recommendation.audit_id == audit_id)
    if team_id is not None:
        query = query.where(Recommendation.assigned_to_team(team_id) if include_supporting
                            else Recommendation.lead_team_id == team_id)
    if overdue_only:
        query = query.where(_overdue(today))
    return query


def _overdue(today: date) -> ColumnElement[bool]:
    return Recommendation.due_date.is_not(None) & (Recommendation.due_date < today)


def open_items(*, page: int = 1, per_page: int = PER_PAGE, team_id: int | None = None,
               overdue_only: bool = False, audit_id: int | None = None,
               include_supporting: bool = False, tz: str | None = None) -> OpenItemsPage:
    """One page of open items, oldest registration first (then audit year and number)."""
    today = dates.today(tz)
    query = _filtered(today, team_id=team_id, overdue_only=overdue_only, audit_id=audit_id,
                      include_supporting=include_supporting)
    counted = query.with_only_columns(
        func.count(),
        func.coalesce(func.sum(case((_overdue(today), 1), else_=0)), 0),
    ).order_by(None)
    # Kept while the history stands still (reports/memo.py); the day decides what is overdue.
    total, overdue_total = memo.remembered(
        ("open items", today, team_id, overdue_only, audit_id, include_supporting),
        lambda: tuple(db.session.execute(counted).one()))
    page = clamp(page, total, per_page)
    order = (Recommendation.created_at, Audit.year, Recommendation.number, Recommendation.id)
    # The page's ids first, then its rows: the latest trigger of each (a lookup per row) is
    # asked for the page's items only, not for every open item before they are sorted.
    ids = db.session.scalars(query.with_only_columns(Recommendation.id).order_by(*order)
                             .limit(per_page).offset((page - 1) * per_page)).all()
    rows = db.session.execute(
        query.where(Recommendation.id.in_(ids)).order_by(*order)
        .options(undefer(Recommendation.last_trigger))
    ).all() if ids else []
    items = [_item(recommendation, audit, lead_name, today, tz)
             for recommendation, audit, lead_name in rows]
    return OpenItemsPage(items=items, number=page, per_page=per_page,
                         has_next=page * per_page < total, total=total,
                         overdue_total=int(overdue_total), today=today)


def _item(recommendation: Recommendation, audit: Audit, lead_name: str | None, today: date,
          tz: str | None) -> OpenItem:
    registered = _local_day(recommendation.created_at, tz)
    due = recommendation.due_date
    return OpenItem(
        id=recommendation.id,
        audit_id=audit.id,
        audit_year=audit.year,
        audit_title=audit.title,
        number=recommendation.number,
        category=Category(recommendation.category),
        council_text=recommendation.council_text,
        lead_team=lead_name,
        state=State(recommendation.state),
        returned=recommendation.is_returned,
        registered_on=registered,
        age_days=(today - registered).days,
        due_date=due,
        overdue=due is not None and due < today,
    )


def _local_day(moment: datetime, tz: str | None) -> date:
    return dates.local(moment, tz).date()
