"""The list's text search: the items whose 요구사항 내용, 추진내용 or 향후계획 contain a text.

The answer is always that of the plain substring test (SQLAlchemy's
``icontains``: ``column ILIKE '%text%'`` on PostgreSQL, ``lower(column) LIKE
lower('%text%')`` on SQLite), on each database; the index of
``models.text_index`` only makes it fast:

- PostgreSQL: the test itself is what the ``pg_trgm`` indexes serve, so the
  planner reads the index instead of every row.
- SQLite: the FTS5 trigram table names the candidate rows (a superset: its case
  folding covers ``lower``'s ASCII one), and the substring test is kept on those
  rows only, so the result is exactly the scan's.

A text shorter than three characters (e.g. "인공") has no trigram: the scan answers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, column, or_, select, table

from auditflow.extensions import db
from auditflow.models import Recommendation
from auditflow.models.text_index import FTS_TABLE, MIN_TERM

_FTS = table(FTS_TABLE, column("rowid"), column(FTS_TABLE))


SEARCHED = ("council_text", "action_details", "future_plan")


def substring(text: str, rows: Any = None) -> ColumnElement[bool]:
    """The plain test: some searched column contains ``text`` (the reference answer), of
    ``recommendation`` or of ``rows`` (a subquery carrying the same columns)."""
    columns = rows.c if rows is not None else Recommendation.__table__.c
    return or_(*(columns[name].icontains(text, autoescape=True) for name in SEARCHED))


def phrase(text: str) -> str:
    """``text`` as one FTS5 string: every character literal, a double quote doubled."""
    return '"' + text.replace('"', '""') + '"'


def contains(text: str) -> ColumnElement[bool]:
    """SQL: the items with ``text`` in one of their searched texts, through the index."""
    condition = substring(text)
    if len(text) < MIN_TERM or db.session.get_bind().dialect.name != "sqlite":
        return condition
    candidates = select(_FTS.c.rowid).where(_FTS.c[FTS_TABLE].op("MATCH")(phrase(text)))
    return Recommendation.id.in_(candidates) & condition
