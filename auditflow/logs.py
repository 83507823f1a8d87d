"""Logs: one JSON object a line (production), and the request id that ties them together.

``AUDITFLOW_LOG_FORMAT`` is ``json`` (the default in production) or ``text``. Every
record of the ``auditflow`` loggers carries ``request_id``: the id of the request being
answered (``http.telemetry``), or of the request that queued the job being run
(``jobs``), so a line of the worker can be found from the number a user quotes from an
error page.

What is logged is chosen, never dumped: the request line names the route's endpoint, not
its path or query (a path may carry a token), and no form, body, header or file content
is ever passed to a logger.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import uuid
from typing import Any

from pythonjsonlogger.json import JsonFormatter

_REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "auditflow_request_id", default=None)

# An id a proxy sent (X-Request-ID) is kept only if it looks like one: nothing a client
# writes reaches the logs unless it is this plain.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

_HANDLER_NAME = "auditflow.logs"


def new_request_id(offered: str | None = None) -> str:
    """The proxy's id when it is safe to log, else a new random one."""
    if offered and _SAFE_ID.match(offered):
        return offered
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return _REQUEST_ID.get()


def bind_request_id(request_id: str | None) -> contextvars.Token[str | None]:
    return _REQUEST_ID.set(request_id)


def unbind_request_id(token: contextvars.Token[str | None]) -> None:
    _REQUEST_ID.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (None outside a request or job)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "{asctime}{levelname}{name}{message}{request_id}", style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z", json_ensure_ascii=False)


def text_formatter() -> logging.Formatter:
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")


# Ours, and the queue's (Huey's consumer logs a task's failure and its retries there).
LOGGERS = ("auditflow", "huey")


def configure_for(config: Any) -> None:
    """``configure`` with the application's settings (``LOG_FORMAT``, ``LOG_LEVEL``)."""
    configure(config["LOG_FORMAT"], config["LOG_LEVEL"])


def configure(log_format: str, level: str) -> None:
    """One handler on stderr for the ``auditflow`` and ``huey`` loggers, made once per process.

    Called by the processes that serve: gunicorn's workers (deploy/gunicorn.conf.py,
    ``post_worker_init``) and ``flask worker``; not by ``create_app``, so that an
    application made in a test or a one-off command leaves the process's logging alone."""
    formatter = json_formatter() if log_format == "json" else text_formatter()
    for name in LOGGERS:
        logger = logging.getLogger(name)
        # Huey's "executing …" lines repeat ours (one line per job): its warnings and errors.
        logger.setLevel(level if name == "auditflow"
                        else max(logging.getLevelNamesMapping()[level], logging.WARNING))
        mine = [h for h in logger.handlers
                if isinstance(h, logging.StreamHandler) and h.get_name() == _HANDLER_NAME]
        if mine:
            mine[0].setFormatter(formatter)
            mine[0].setStream(sys.stderr)
            continue
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(_HANDLER_NAME)
        handler.addFilter(RequestIdFilter())
        handler.setFormatter(formatter)
        logger.addHandler(handler)
        # Written here once, not again by the root's (the test suite configures none of
        # this: its records reach pytest's capture).
        logger.propagate = False
    # The workflow library says every state change at INFO; the history already records
    # each one, with who and why: only its warnings and errors reach the log.
    logging.getLogger("transitions").setLevel(logging.WARNING)


def fields(**values: Any) -> dict[str, Any]:
    """``extra=`` for a structured line (the keys become JSON fields)."""
    return {key: value for key, value in values.items() if value is not None}
