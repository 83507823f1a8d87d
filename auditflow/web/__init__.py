"""The web application: one blueprint per feature, one transaction per request."""

from __future__ import annotations

from flask import Flask, Response

from auditflow.extensions import db


def register_blueprints(app: Flask) -> None:
    from auditflow.web.summary import bp as summary_bp

    app.register_blueprint(summary_bp)

    @app.after_request
    def _finish_transaction(response: Response) -> Response:
        # One commit per request: a successful answer commits what the request
        # did; an error answer (or an exception, see teardown) rolls it all back.
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response

    @app.teardown_request
    def _rollback_on_exception(exc: BaseException | None) -> None:
        if exc is not None:
            db.session.rollback()
