"""Database settings: what SQLite needs to behave like a server database, and when a server's
pooled connection is pinged before use."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while one writer writes; foreign keys are off by default in SQLite.
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "memory":
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def engine_options(url: str, busy_timeout_ms: int) -> dict[str, Any]:
    if make_url(url).get_backend_name() == "sqlite":
        # sqlite3's timeout is SQLite's busy timeout: a second writer waits for the
        # first instead of failing at once with "database is locked".
        return {"connect_args": {"timeout": busy_timeout_ms / 1000}}
    return {}  # a server's pool pings after a pause (ping_after_idle), not every checkout


_CHECKED_IN_AT = "auditflow_checked_in_at"


def ping_after_idle(engine: Engine, seconds: float) -> None:
    """Ping a pooled connection of a database server before it is handed out again after
    ``seconds`` or more unused (a restart, a fail-over or the server's idle timeout may have
    ended it meanwhile); one handed on sooner, as under load, is not pinged (``pool_pre_ping``
    would cost a round trip per request). A ping that fails disposes of the connection and
    the pool hands out a new one. A connection lost after all (the server restarted while
    it was in use) costs a read one retry and a write its error page
    (``http.transaction``)."""
    if engine.dialect.name == "sqlite":
        return

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_CHECKED_IN_AT)
        if since is None or time.monotonic() - since < seconds:
            return  # new, or back only a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the pooled connection did not answer its ping") from exc
