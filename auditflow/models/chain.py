"""Hash chains: every row of an append-only table carries the hash of itself and of the row
before it, so a change made behind the application's back is seen.

A ``Chained`` model is one chain (its table's name). When a row is inserted through the ORM,
``before_insert`` takes the chain's ``chain_head`` row (an UPDATE, which holds a row lock on
PostgreSQL and the database's write lock on SQLite until the transaction ends, so chained
inserts of concurrent transactions go one after the other), gives the row the next position
(``chain_seq``), the hash of the row before (``chain_prev``) and its own hash
(``chain_hash``: SHA-256 of ``chain_prev`` and the canonical encoding of the row), and moves
the head. All of it happens in the row's own transaction: it is kept or rolled back with the
row.

The canonical encoding (``canonical``) is JSON with sorted keys of every column but the id
and the chain's own columns: texts and numbers as they are, datetimes in UTC ISO 8601 with
microseconds, dates in ISO 8601, booleans and null as JSON has them. It is stable across
SQLite and PostgreSQL, which give back the same values.

``auditflow.services.integrity`` walks the chains and says where one breaks.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import Connection, Index, Integer, String, Table, Text, event, text
from sqlalchemy.orm import Mapped, Mapper, declared_attr, mapped_column

from auditflow.extensions import Model
from auditflow.models.base import UTCDateTime, utcnow

GENESIS = "0" * 64
CHAIN_COLUMNS = frozenset({"chain_seq", "chain_prev", "chain_hash"})


class ChainHead(Model):
    """The end of one chain: how long it is and the hash of its last row; its lock."""

    __tablename__ = "chain_head"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    length: Mapped[int] = mapped_column(Integer, default=0)
    head: Mapped[str] = mapped_column(String(64), default=GENESIS)
    # Where the chain starts now: rows up to ``start_seq`` were purged after their retention
    # (the access log); ``start_hash`` is the hash of the last purged row.
    start_seq: Mapped[int] = mapped_column(Integer, default=0)
    start_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


class IntegrityCheck(Model):
    """One run of ``flask integrity verify``: when, whether every chain and file held, the
    counts, the first problem, and the heads seen (the next run checks they are still there)."""

    __tablename__ = "integrity_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ok: Mapped[bool]
    counts: Mapped[str] = mapped_column(Text)  # JSON {"history": rows, ..., "evidence files": n}
    heads: Mapped[str] = mapped_column(Text)  # JSON {"history": [length, hash], ...}
    problem: Mapped[str | None] = mapped_column(Text)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a chained row")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | str):
        return value
    raise TypeError(f"no canonical form for {type(value).__name__}")


def canonical(values: dict[str, Any]) -> bytes:
    """The row's columns (no id, no chain columns) as stable bytes."""
    kept = {key: _plain(value) for key, value in values.items()
            if key != "id" and key not in CHAIN_COLUMNS}
    return json.dumps(kept, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def link(prev: str, seq: int, values: dict[str, Any]) -> str:
    """The hash of a row at position ``seq`` after the row whose hash is ``prev``."""
    digest = hashlib.sha256()
    digest.update(f"{seq}:{prev}:".encode())
    digest.update(canonical(values))
    return digest.hexdigest()


class Chained:
    """A model whose rows form one hash chain, named after its table."""

    chain_columns: ClassVar[frozenset[str]] = CHAIN_COLUMNS
    chain_label: ClassVar[str] = ""  # the chain's name on screen

    @declared_attr
    def chain_seq(cls) -> Mapped[int | None]:
        return mapped_column(Integer)

    @declared_attr
    def chain_prev(cls) -> Mapped[str | None]:
        return mapped_column(String(64))

    @declared_attr
    def chain_hash(cls) -> Mapped[str | None]:
        return mapped_column(String(64))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table = cls.__dict__.get("__table__")
        if isinstance(table, Table):
            # One row per place in the chain.
            Index(f"uq_{table.name}_chain_seq", table.c.chain_seq, unique=True)
            event.listen(cls, "before_insert", _chain_row)


def row_values(mapper: Mapper[Any], target: Any) -> dict[str, Any]:
    """The column values of a mapped object, by column name."""
    return {attr.columns[0].name: getattr(target, attr.key) for attr in mapper.column_attrs}


def advance(connection: Connection, chain: str) -> tuple[int, str]:
    """Take the chain's lock (until the transaction ends); the next position and the hash
    before it."""
    taken = connection.execute(
        text("UPDATE chain_head SET length = length + 1 WHERE name = :name "
             "RETURNING length, head"), {"name": chain}).first()
    if taken is None:
        connection.execute(
            text("INSERT INTO chain_head (name, length, head, start_seq, start_hash) "
                 "VALUES (:name, 0, :genesis, 0, :genesis) "
                 "ON CONFLICT (name) DO NOTHING"), {"name": chain, "genesis": GENESIS})
        taken = connection.execute(
            text("UPDATE chain_head SET length = length + 1 WHERE name = :name "
                 "RETURNING length, head"), {"name": chain}).one()
    return int(taken[0]), str(taken[1])


def _fill_defaults(mapper: Mapper[Any], target: Any) -> None:
    # Python-side defaults are applied when the INSERT is built, after this event: apply
    # them now, so the hash covers the values the row will have.
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        if getattr(target, attr.key) is not None or column.default is None:
            continue
        default = column.default
        if getattr(default, "is_callable", False):
            setattr(target, attr.key, default.arg(None))
        elif getattr(default, "is_scalar", False):
            setattr(target, attr.key, default.arg)


def _chain_row(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    _fill_defaults(mapper, target)
    seq, prev = advance(connection, mapper.persist_selectable.name)  # type: ignore[attr-defined]
    target.chain_seq = seq
    target.chain_prev = prev
    target.chain_hash = link(prev, seq, row_values(mapper, target))
    connection.execute(text("UPDATE chain_head SET head = :head WHERE name = :name"),
                       {"head": target.chain_hash, "name": mapper.persist_selectable.name})  # type: ignore[attr-defined]
