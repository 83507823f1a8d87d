"""The 조치내역 table: counts by category × state, computed by the database.

Without a date it counts the items' current states; with ``as_of`` it counts
each item's state as its history stood at the end of that day (in the body's
time zone), so a table printed later for an earlier date gives that date's
numbers. Either way it is one grouped query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.sql.util import find_tables

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Audit, Category, History, Recommendation
from auditflow.workflow import SUMMARY_ORDER, State

TOTAL_LABEL = "계"


@dataclass
class SummaryRow:
    category: Category | None  # None: the 계 row
    counts: dict[State, int] = field(default_factory=lambda: dict.fromkeys(State, 0))

    @property
    def label(self) -> str:
        return self.category.label if self.category else TOTAL_LABEL

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": self.label,
            "total": self.total,
            **{state.value: self.counts[state] for state in State},
        }


@dataclass
class Summary:
    audit: Audit
    as_of: date
    rows: list[SummaryRow]  # 계 first, then the categories in the report's order

    @property
    def total(self) -> SummaryRow:
        return self.rows[0]

    @property
    def columns(self) -> list[State]:
        """The state columns to show: 접수 only while some item is still received."""
        return [
            state for state in SUMMARY_ORDER
            if state != State.RECEIVED or self.total.counts[State.RECEIVED]
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "audit": {"id": self.audit.id, "title": self.audit.title},
            "as_of": self.as_of.isoformat(),
            "rows": [row.as_dict() for row in self.rows],
        }


def latest_history(as_of: date, value: Any, *criteria: Any, tz: str | None = None):
    """Each item's value as the history stood at the end of ``as_of``: a subquery
    (recommendation_id, value) taken from its latest row by (at, id) that matches
    ``criteria`` and is not later than ``dates.end_of_day(as_of)``. Items with no
    such row (or a null value) are absent.

    The one place the rule is written; the summary, the per-team view and the
    report take states, categories, teams and due dates of an earlier day from here.

    Criteria on ``history`` choose the rows; criteria on ``recommendation`` choose
    the items. The value is a correlated subquery per item that walks the
    (recommendation_id, at, id) index backwards, so it costs a few index steps per
    item; a window function over the whole history cost SQLite a quadratic join as
    soon as two such subqueries were joined.
    """
    on_history = [c for c in criteria if _reads_history(c)]
    on_items = [c for c in criteria if not _reads_history(c)]
    latest = (
        select(value)
        .where(
            History.recommendation_id == Recommendation.id,
            History.at < dates.end_of_day(as_of, tz),
            *on_history,
        )
        .order_by(History.at.desc(), History.id.desc())
        .limit(1)
        .correlate(Recommendation)
        .scalar_subquery()
    )
    values = select(Recommendation.id.label("recommendation_id"), latest.label("value")).where(
        *on_items
    ).subquery()
    return select(values.c.recommendation_id, values.c.value).where(
        values.c.value.is_not(None)
    ).subquery()


def _reads_history(criterion: Any) -> bool:
    return History.__table__ in find_tables(criterion, check_columns=True)


def state_counts_query(audit_id: int, as_of: date | None, tz: str | None = None):
    """SELECT category, state, count(*) — current states, or states at the end of ``as_of``."""
    if as_of is None:
        return (
            select(Recommendation.category, Recommendation.state, func.count())
            .where(Recommendation.audit_id == audit_id)
            .group_by(Recommendation.category, Recommendation.state)
        )
    states = latest_history(
        as_of, History.to_state, History.to_state.is_not(None),
        Recommendation.audit_id == audit_id, tz=tz,
    )
    # The category too as it stood then: the audit team may have moved the item since.
    categories = latest_history(
        as_of, History.new_value, History.field == "category",
        Recommendation.audit_id == audit_id, tz=tz,
    )
    category = func.coalesce(categories.c.value, Recommendation.category)
    return (
        select(category, states.c.value, func.count())
        .join(states, states.c.recommendation_id == Recommendation.id)
        .outerjoin(categories, categories.c.recommendation_id == Recommendation.id)
        .group_by(category, states.c.value)
    )


def summarize(audit: Audit, as_of: date | None = None, tz: str | None = None) -> Summary:
    today = dates.today(tz)
    use_history = as_of is not None and as_of < today
    rows = {category: SummaryRow(category) for category in Category}
    total = SummaryRow(None)
    query = state_counts_query(audit.id, as_of if use_history else None, tz)
    for category, state, count in db.session.execute(query):
        rows[Category(category)].counts[State(state)] += count
        total.counts[State(state)] += count
    return Summary(audit=audit, as_of=as_of or today, rows=[total, *rows.values()])


def latest_audit() -> Audit | None:
    return db.session.scalar(select(Audit).order_by(Audit.year.desc(), Audit.id.desc()).limit(1))
