from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import DDL, DateTime, Table, event
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so the value is
    stored as naive UTC text, which keeps string comparison equal to time order.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def append_only_ddl(table: str, message: str) -> dict[str, list[str]]:
    """Triggers that refuse UPDATE and DELETE on ``table``, per dialect.

    The migrations hold frozen copies of these statements; ``make_append_only``
    gives ``create_all()`` (used by the tests) the same triggers.
    """
    return {
        "sqlite": [
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
        ],
        "postgresql": [
            f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{message}'; END; $$ LANGUAGE plpgsql",
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
        ],
    }


def make_append_only(table: Table, message: str) -> None:
    for dialect, statements in append_only_ddl(table.name, message).items():
        for statement in statements:
            ddl = DDL(statement)  # type: ignore[no-untyped-call]
            event.listen(table, "after_create", ddl.execute_if(dialect=dialect))


class AppendOnlyViolation(RuntimeError):
    """Something tried to change or delete a row that is written once and kept as it is."""


class AppendOnly:
    """A model whose rows are written once and never changed or deleted.

    The ORM refuses an update or delete of such a row at flush, and the table
    gets database triggers that refuse them for anything that bypasses the ORM.
    ``append_only_message`` is the trigger's error text.
    """

    append_only_message: ClassVar[str] = "rows of this table are never changed"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table = cls.__dict__.get("__table__")
        if isinstance(table, Table):
            make_append_only(table, cls.append_only_message)


@event.listens_for(Session, "before_flush")
def _refuse_append_only_changes(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.deleted:
        if isinstance(obj, AppendOnly):
            raise AppendOnlyViolation(f"{type(obj).__name__} rows are never deleted")
    for obj in session.dirty:
        if isinstance(obj, AppendOnly) and session.is_modified(obj):
            raise AppendOnlyViolation(f"{type(obj).__name__} rows are never changed")


def sql_in(values: Iterable[enum.StrEnum]) -> str:
    """``'a', 'b', 'c'``: enum values (or a whole enum) for a CHECK constraint."""
    return ", ".join(f"'{value.value}'" for value in values)
