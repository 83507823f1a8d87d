"""What the items were at the end of a given day: the one "as of" rule.

An item's state at the end of a day (in the body's time zone, ``dates.end_of_day``)
is the ``to_state`` of its latest history row by then; any other field's value
is the ``new_value`` of its latest row for that field by then (see the history
table in docs/architecture.md). Items with no state row by then did not exist
yet. For today or a later day the items' own columns already are the answer.

An issued edition is the history as it stood when it was issued: ``until`` (the moment
of issue) cuts the history earlier than the end of the day when it came first, and the
history is read even for today (``cutoff``), so that the edition can be made again later.

The summary table, the report's items and the per-team view all ask this
module, so they cannot disagree about the past.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, cast, func, or_, select, true
from sqlalchemy.dialects.postgresql import JSONB

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import History, Recommendation, recommendation_support_team
from auditflow.vocabulary import CLOSED, Field, HistoryKind


def reference_day(as_of: date | None, tz: str | None = None,
                  until: datetime | None = None) -> tuple[date, bool]:
    """The day to report (today when none is given) and whether the items' current
    columns are that day's values (today or later) or history must be read (always when
    the history is cut at a moment, ``until``)."""
    if until is not None:
        return as_of or dates.local(until, tz).date(), False
    today = dates.today(tz)
    if as_of is None or as_of >= today:
        return as_of or today, True
    return as_of, False


def cutoff(day: date, tz: str | None = None, until: datetime | None = None) -> datetime:
    """The history before this moment counts: the end of ``day``, or ``until`` if earlier."""
    end = dates.end_of_day(day, tz)
    return min(end, until) if until is not None else end


def field_rows() -> dict[str, tuple[Any, ColumnElement[bool]]]:
    """Field of an item -> (the history column holding its value, the rows that carry it)."""
    return {
        "state": (History.to_state, History.to_state.is_not(None)),
        "council_text": (History.new_value, or_(History.kind == HistoryKind.CREATED.value,
                                                History.field == Field.COUNCIL_TEXT.value)),
        "category": (History.new_value, History.field == Field.CATEGORY.value),
        "teams": (History.new_value, History.field == Field.TEAMS.value),
        "due_date": (History.new_value, History.field == Field.DUE_DATE.value),
        "action_details": (History.new_value, History.field == Field.ACTION_DETAILS.value),
        "future_plan": (History.new_value, History.field == Field.FUTURE_PLAN.value),
    }


# How each database finds an item's latest row best (the answers are the same, tested):
# SQLite walks the history index backwards once per item (correlated subqueries); a
# window function over the history cost it a quadratic join as soon as two such
# subqueries were joined. PostgreSQL ranks the rows with a window function in one pass,
# several times faster than the correlated form at 20,000 items.
CORRELATED, RANKED = "correlated", "ranked"
BEST_FORM = {"sqlite": CORRELATED, "postgresql": RANKED}


def latest(field: str, as_of: date, *items: Any, tz: str | None = None,
           until: datetime | None = None, form: str | None = None) -> Any:
    """A subquery (recommendation_id, value): ``field`` of each item chosen by ``items``
    (criteria on ``recommendation``) as it stood at the end of ``as_of``. Items with
    no such row (or a null value) are absent.

    ``form`` (for the tests) picks the SQL; by default each database's best one
    (``BEST_FORM``). Both read the history index on (recommendation_id, at, id).
    """
    chosen = form or BEST_FORM.get(db.session.get_bind().dialect.name, CORRELATED)
    value, rows = field_rows()[field]
    if chosen == RANKED:
        ranked = select(
            History.recommendation_id.label("recommendation_id"),
            value.label("value"),
            func.row_number().over(partition_by=History.recommendation_id,
                                   order_by=(History.at.desc(), History.id.desc())).label("rank"),
        ).where(History.at < cutoff(as_of, tz, until), rows)
        if items:
            ranked = ranked.join(Recommendation, Recommendation.id == History.recommendation_id)
            ranked = ranked.where(*items)
        found = ranked.subquery()
        return select(found.c.recommendation_id, found.c.value).where(
            found.c.rank == 1, found.c.value.is_not(None)
        ).subquery()
    newest = value_then(field, as_of, tz=tz, until=until)
    values = select(Recommendation.id.label("recommendation_id"), newest.label("value")).where(
        *items
    ).subquery()
    return select(values.c.recommendation_id, values.c.value).where(
        values.c.value.is_not(None)
    ).subquery()


def value_then(field: str, as_of: date, tz: str | None = None,
               until: datetime | None = None) -> Any:
    """``field`` of the item in the enclosing query (on ``recommendation``) at the end of
    ``as_of``, or NULL: a correlated subquery on the history index (a few index steps)."""
    value, rows = field_rows()[field]
    return (
        select(value)
        .where(
            History.recommendation_id == Recommendation.id,
            History.at < cutoff(as_of, tz, until),
            rows,
        )
        .order_by(History.at.desc(), History.id.desc())
        .limit(1)
        .correlate(Recommendation)
        .scalar_subquery()
    )


def first_category() -> Any:
    """The category an item was registered with, for items registered before
    registration recorded it: the old value of its first category edit."""
    return (
        select(History.old_value)
        .where(History.recommendation_id == Recommendation.id,
               History.field == Field.CATEGORY.value,
               History.old_value.is_not(None))
        .order_by(History.at, History.id)
        .limit(1)
        .correlate(Recommendation)
        .scalar_subquery()
    )


# ─── the assignment and due date of every item, for grouped queries ──────────


def _lead_team_of(assignment: Any) -> Any:
    """lead_team_id out of an assignment row's JSON value, in the database's own dialect."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(cast(assignment, JSONB)["lead_team_id"].astext, Integer)
    return cast(func.json_extract(assignment, "$.lead_team_id"), Integer)


def _supporting_of(assignments: Any) -> Any:
    """(recommendation_id, team_id) for every supporting team id in the assignment JSON."""
    if db.session.get_bind().dialect.name == "postgresql":
        ids = func.jsonb_array_elements_text(
            cast(assignments.c.value, JSONB)["supporting_team_ids"]
        ).table_valued("value")
    else:
        ids = func.json_each(assignments.c.value, "$.supporting_team_ids").table_valued("value")
    team_id = cast(ids.c.value, Integer)
    # A function in FROM may read the columns of the tables before it (an implicit LATERAL
    # in both SQLite and PostgreSQL), which is what unnests each item's own list.
    return select(
        assignments.c.recommendation_id.label("recommendation_id"), team_id.label("team_id")
    ).select_from(assignments).join(ids, true()).subquery()


@dataclass
class Snapshot:
    """The items as they stood: ``items`` (recommendation_id, audit_id, state,
    lead_team_id, due), ``overdue`` (a condition over ``items``) and ``supporting``
    (recommendation_id, team_id), all to be used inside grouped queries."""

    items: Any
    overdue: Any
    supporting: Any


def snapshot(as_of: date | None, tz: str | None = None,
             until: datetime | None = None) -> tuple[date, Snapshot]:
    """Every item's state, lead team, supporting teams and due date at the end of the day."""
    day, current = reference_day(as_of, tz, until)
    if current:
        items = select(
            Recommendation.id.label("recommendation_id"),
            Recommendation.audit_id.label("audit_id"),
            Recommendation.state.label("state"),
            Recommendation.lead_team_id.label("lead_team_id"),
            Recommendation.due_date.label("due"),
        ).subquery()
        supporting = select(
            recommendation_support_team.c.recommendation_id.label("recommendation_id"),
            recommendation_support_team.c.team_id.label("team_id"),
        ).subquery()
        due_before = items.c.due < day
    else:
        states = latest("state", day, tz=tz, until=until)
        teams = latest("teams", day, tz=tz, until=until)
        due = latest("due_date", day, tz=tz, until=until)
        items = (
            select(
                Recommendation.id.label("recommendation_id"),
                Recommendation.audit_id.label("audit_id"),
                states.c.value.label("state"),
                _lead_team_of(teams.c.value).label("lead_team_id"),
                due.c.value.label("due"),
            )
            .join(states, states.c.recommendation_id == Recommendation.id)
            .outerjoin(teams, teams.c.recommendation_id == Recommendation.id)
            .outerjoin(due, due.c.recommendation_id == Recommendation.id)
            .subquery()
        )
        supporting = _supporting_of(teams)
        # History keeps the due date as ISO text, whose order is the dates' order.
        due_before = items.c.due < day.isoformat()
    overdue = and_(
        items.c.due.is_not(None), due_before, items.c.state.not_in([s.value for s in CLOSED])
    )
    return day, Snapshot(items=items, overdue=overdue, supporting=supporting)
