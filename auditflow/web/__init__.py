"""The web application: one blueprint per feature, one transaction per request."""

from __future__ import annotations

from flask import Flask, Response

from auditflow.extensions import db


def register_blueprints(app: Flask) -> None:
    from auditflow.api import bp as api_bp
    from auditflow.web import assets, errors, security, templating
    from auditflow.web.audits import bp as audits_bp
    from auditflow.web.evidence import bp as evidence_bp
    from auditflow.web.evidence.uploads import UploadLimitedRequest
    from auditflow.web.home import bp as home_bp
    from auditflow.web.recommendations import bp as recommendations_bp
    from auditflow.web.summary import bp as summary_bp

    assets.register(app)
    templating.register(app)
    security.register(app)
    errors.register(app)

    app.register_blueprint(home_bp)
    app.register_blueprint(audits_bp)
    app.register_blueprint(recommendations_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(summary_bp)
    app.register_blueprint(evidence_bp)
    # Each uploaded file stops at MAX_UPLOAD_MB while the body is parsed (413).
    app.request_class = UploadLimitedRequest

    from auditflow.web.admin import bp as admin_bp
    from auditflow.web.auth import bp as auth_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)

    from auditflow.web.status import bp as status_bp

    app.register_blueprint(status_bp)

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
