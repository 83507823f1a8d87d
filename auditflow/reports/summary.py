"""The 조치내역 table: counts by category × state, computed by the database.

Without a date it counts the items' current states; with ``as_of`` it counts
each item's state as its history stood at the end of that day (in the body's
time zone), so a table printed later for an earlier date gives that date's
numbers. Either way it is one grouped query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select

from auditflow.extensions import db
from auditflow.models import Audit, Recommendation
from auditflow.reports import as_of as as_of_rule
from auditflow.reports import memo
from auditflow.vocabulary import SUMMARY_ORDER, Category, State

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


def state_counts_query(audit_id: int, as_of: date | None, tz: str | None = None,
                       until: datetime | None = None) -> Select[str, str, int]:
    """SELECT category, state, count(*) — current states, or states at the end of ``as_of``."""
    if as_of is None:
        return (
            select(Recommendation.category, Recommendation.state, func.count())
            .where(Recommendation.audit_id == audit_id)
            .group_by(Recommendation.category, Recommendation.state)
        )
    in_audit = Recommendation.audit_id == audit_id
    states = as_of_rule.latest("state", as_of, in_audit, tz=tz, until=until)
    # The category too as it stood then: the audit team may have moved the item since.
    categories = as_of_rule.latest("category", as_of, in_audit, tz=tz, until=until)
    category = func.coalesce(categories.c.value, Recommendation.category)
    return (
        select(category, states.c.value, func.count())
        .join(states, states.c.recommendation_id == Recommendation.id)
        .outerjoin(categories, categories.c.recommendation_id == Recommendation.id)
        .group_by(category, states.c.value)
    )


def summarize(audit: Audit, as_of: date | None = None, tz: str | None = None,
              until: datetime | None = None) -> Summary:
    day, current = as_of_rule.reference_day(as_of, tz, until)
    rows = {category: SummaryRow(category) for category in Category}
    total = SummaryRow(None)
    query = state_counts_query(audit.id, None if current else day, tz, until)
    # Kept while the history stands still (reports/memo.py): as of a day, this reads the
    # history of every item of the audit.
    counted: list[tuple[str, str, int]] = memo.remembered(
        ("summary", audit.id, None if current else day, tz, until),
        lambda: [(str(c), str(s), int(n)) for c, s, n in db.session.execute(query)])
    for category, state, count in counted:
        rows[Category(category)].counts[State(state)] += count
        total.counts[State(state)] += count
    return Summary(audit=audit, as_of=day, rows=[total, *rows.values()])


def latest_audit() -> Audit | None:
    return db.session.scalar(select(Audit).order_by(Audit.year.desc(), Audit.id.desc()).limit(1))
