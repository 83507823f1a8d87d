"""The Flask application class: every view's answer passes the transaction boundary.

A read (GET, HEAD) whose database connection is lost mid-way (the server restarted, a
failover) is run once more on a new connection: it changed nothing, so running it again is
safe, and a restart costs only the writes in flight. A write is never run twice: it gets the
error page, and the user sees that it did not happen.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from auditflow.http import transaction

log = logging.getLogger("auditflow.http")

_SAFE = frozenset({"GET", "HEAD"})


class Application(Flask):
    def dispatch_request(self) -> ResponseReturnValue:
        try:
            answer = super().dispatch_request()
        except DBAPIError as error:
            if not (error.connection_invalidated and request.method in _SAFE):
                raise
            transaction.abandon()
            log.warning("database connection lost during %s %s; reading once more",
                        request.method, request.path)
            answer = super().dispatch_request()
        return transaction.finish(self.make_response(answer))

    def handle_user_exception(self, e: Exception) -> HTTPException | ResponseReturnValue:
        transaction.abandon()
        answer = super().handle_user_exception(e)
        transaction.keep_refusal(e)
        return answer

    def handle_exception(self, e: Exception) -> Response:
        transaction.abandon()
        return super().handle_exception(e)
