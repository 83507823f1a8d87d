"""The SQL statements run while in a block (SQLAlchemy's ``before_cursor_execute``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from sqlalchemy import event

from auditflow.extensions import db


class Statement(NamedTuple):
    sql: str
    parameters: Any


@contextmanager
def recorded(app: Any = None) -> Iterator[list[Statement]]:
    """Each statement sent to the database (with its parameters) while in the block; the
    engine of ``app``, or of the application whose context is active."""
    if app is not None:
        with app.app_context():
            engine = db.engine
    else:
        engine = db.engine
    seen: list[Statement] = []

    def record(_conn: Any, _cursor: Any, sql: str, parameters: Any, *_rest: Any) -> None:
        seen.append(Statement(sql, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
