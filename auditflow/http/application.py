"""The Flask application class: every view's answer passes the transaction boundary."""

from __future__ import annotations

from flask import Flask, Response
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from auditflow.http import transaction


class Application(Flask):
    def dispatch_request(self) -> ResponseReturnValue:
        return transaction.finish(self.make_response(super().dispatch_request()))

    def handle_user_exception(self, e: Exception) -> HTTPException | ResponseReturnValue:
        transaction.abandon()
        answer = super().handle_user_exception(e)
        transaction.keep_refusal(e)
        return answer

    def handle_exception(self, e: Exception) -> Response:
        transaction.abandon()
        return super().handle_exception(e)
