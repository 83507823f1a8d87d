"""The full-text index of the items' texts, once for both databases.

What people search for (요구사항 내용, 추진내용, 향후계획) is found through an index
instead of a scan of every row:

- SQLite: an FTS5 table with the ``trigram`` tokenizer over the three columns,
  reading its text from ``recommendation`` itself (external content), kept in
  step by three triggers on every insert, update and delete of an item, however
  it is written (the services, the seed, a bulk load).
- PostgreSQL: a ``pg_trgm`` GIN index on each column, which serves the list's
  ``column ILIKE '%…%'`` directly; PostgreSQL keeps them in step itself.

A trigram index finds words inside longer ones ("인공지능" inside "생성형인공지능"),
but only terms of three characters or more; ``reports.text_search`` falls back to
the plain scan for shorter ones. These objects are not SQLAlchemy tables or
indexes: ``attach`` gives ``create_all()`` (the tests) the same statements the
migration (0016) runs, and ``include_name`` keeps them out of the models-versus-
migrations comparison (``tests/test_migrations.py``, ``migrations/env.py``).

A later SQLite migration that rebuilds ``recommendation`` (Alembic's batch mode copies
the table and drops the old one) drops these triggers with it: such a migration runs
``DROP`` before and ``CREATE`` after its batch.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DDL, Table, event

FTS_TABLE = "recommendation_fts"
COLUMNS = ("council_text", "action_details", "future_plan")
# FTS5 keeps its index in shadow tables of its own (external content: no _content).
FTS_TABLES = frozenset({FTS_TABLE, *(f"{FTS_TABLE}_{part}"
                                     for part in ("data", "idx", "docsize", "config"))})
TRIGRAM_INDEXES = {column: f"ix_recommendation_{column}_trgm" for column in COLUMNS}
MIN_TERM = 3  # a trigram index cannot find anything shorter

_columns = ", ".join(COLUMNS)
_new = ", ".join(f"new.{column}" for column in COLUMNS)
_old = ", ".join(f"old.{column}" for column in COLUMNS)

CREATE: dict[str, list[str]] = {
    "sqlite": [
        f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({_columns}, content='recommendation', "
        "content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON recommendation BEGIN "
        f"INSERT INTO {FTS_TABLE}(rowid, {_columns}) VALUES (new.id, {_new}); END",
        f"CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON recommendation BEGIN "
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_columns}) "
        f"VALUES ('delete', old.id, {_old}); END",
        # Only when a searched text changes: a state change leaves the index alone.
        f"CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF {_columns} ON recommendation BEGIN "
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_columns}) "
        f"VALUES ('delete', old.id, {_old}); "
        f"INSERT INTO {FTS_TABLE}(rowid, {_columns}) VALUES (new.id, {_new}); END",
        # The rows already there (a migrated database): read into the index once.
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
    ],
    "postgresql": [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        *(f"CREATE INDEX {name} ON recommendation USING gin ({column} gin_trgm_ops)"
          for column, name in TRIGRAM_INDEXES.items()),
    ],
}

# The extension stays: other objects of the database may use it.
DROP: dict[str, list[str]] = {
    "sqlite": [
        *(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{what}" for what in ("insert", "delete", "update")),
        f"DROP TABLE IF EXISTS {FTS_TABLE}",
    ],
    "postgresql": [f"DROP INDEX IF EXISTS {name}" for name in TRIGRAM_INDEXES.values()],
}


def attach(table: Table) -> None:
    """Make ``create_all()`` create the index right after the ``recommendation`` table."""
    for dialect, statements in CREATE.items():
        for statement in statements:
            ddl = DDL(statement)  # type: ignore[no-untyped-call]
            event.listen(table, "after_create", ddl.execute_if(dialect=dialect))
    for dialect, statements in DROP.items():
        for statement in statements:
            ddl = DDL(statement)  # type: ignore[no-untyped-call]
            event.listen(table, "before_drop", ddl.execute_if(dialect=dialect))


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's ``include_name``: the text index is no model's, leave it out of comparisons."""
    if type_ == "table":
        return name not in FTS_TABLES
    if type_ == "index":
        return name not in TRIGRAM_INDEXES.values()
    return True
