"""One transaction per request, committed in one place, before the answer is final.

The application (``auditflow.http.application.Application``) hands the answer
of every view to :func:`finish`, which is the only commit of request handling
(as Indico's request handler commits once after ``_do_process``):

* an answer below 400 commits what the request did; an error answer rolls it back;
* if the commit itself fails, everything is rolled back (stored files that were
  to follow the transaction are removed with it, see ``auditflow.storage.transactional``),
  the success messages the view flashed are taken back, and the user gets the
  Korean error page instead: 409 with the conflict message when somebody else
  changed the same item first, the refusal's own status when moving the files
  refused (507 when the storage disk is full), 500 otherwise.

A view that raises never reaches ``finish``: :func:`abandon` rolls back before
the error handlers answer. ``before_request`` handlers write nothing but the last use of a
bearer token or a session (at most once a minute), which this commit carries.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, g, message_flashed, request, session
from sqlalchemy.orm.exc import StaleDataError

from auditflow.errors import DomainError
from auditflow.extensions import db
from auditflow.http.errors import MESSAGES, error_response
from auditflow.models import AccessKind
from auditflow.services.access_log import record_access
from auditflow.workflow import ConflictError

log = logging.getLogger("auditflow.http")

_FLASHED = "auditflow_flashed"


def finish(response: Response) -> Response:
    """Commit the request's work if the answer is a success, else roll it back."""
    if response.status_code >= 400:
        db.session.rollback()
        return response
    try:
        db.session.commit()
    except Exception as exc:  # noqa: BLE001 — a database or a file error alike
        db.session.rollback()
        _take_back_flashes()
        if isinstance(exc, StaleDataError):
            conflict = ConflictError()
            return _as_response(error_response(conflict.status, conflict.message, conflict.code))
        if isinstance(exc, DomainError):  # e.g. the disk filled up as the files moved (507)
            log.warning("commit refused: %s", exc.code)
            return _as_response(error_response(exc.status, exc.message, exc.code))
        log.exception("commit failed; the request was rolled back")
        return _as_response(error_response(500, MESSAGES[500], "server_error"))
    return response


def keep_refusal(error: BaseException) -> None:
    """A permission refusal (403) leaves its access record although the request rolled back:
    the record alone, in a transaction of its own, after the rollback."""
    status = getattr(error, "status", None) or getattr(error, "code", None)
    if status != 403:
        return
    try:
        record_access(AccessKind.PERMISSION_REFUSED, success=False,
                      target=f"{request.method} {request.path}",
                      detail=code if isinstance(code := getattr(error, "code", None), str) else None)
        db.session.commit()
    except Exception:  # noqa: BLE001 — the refusal stands; only its record is lost
        db.session.rollback()
        log.exception("the access record of a refusal could not be kept")


def abandon() -> None:
    """Roll back whatever the request did: it is answering with an error."""
    db.session.rollback()


def init_app(app: Flask) -> None:
    message_flashed.connect(_remember_flash, app)


def _remember_flash(_app: Flask, message: str, category: str, **_extra: Any) -> None:
    g.setdefault(_FLASHED, []).append((category, message))


def _take_back_flashes() -> None:
    """Drop the messages this request flashed (they told of a success that did not happen)."""
    mine = g.pop(_FLASHED, [])
    if mine and "_flashes" in session:
        waiting = list(session["_flashes"])
        for entry in mine:
            if entry in waiting:
                waiting.remove(entry)
        session["_flashes"] = waiting


def _as_response(answer: Any) -> Response:
    return current_app.make_response(answer)
