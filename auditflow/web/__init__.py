"""The web pages: one blueprint per feature (routes.py + forms.py), in the KRDS look."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from auditflow.web import assets, templating
    from auditflow.web.admin import bp as admin_bp
    from auditflow.web.audits import bp as audits_bp
    from auditflow.web.auth import bp as auth_bp
    from auditflow.web.devices import bp as devices_bp
    from auditflow.web.evidence import bp as evidence_bp
    from auditflow.web.evidence.uploads import UploadLimitedRequest
    from auditflow.web.home import bp as home_bp
    from auditflow.web.notifications import bp as notifications_bp
    from auditflow.web.operations import bp as operations_bp
    from auditflow.web.recommendations import bp as recommendations_bp
    from auditflow.web.status import bp as status_bp
    from auditflow.web.summary import bp as summary_bp
    from auditflow.web.tokens import bp as tokens_bp

    assets.register(app)
    templating.register(app)
    for blueprint in (home_bp, audits_bp, recommendations_bp, summary_bp, evidence_bp, auth_bp,
                      admin_bp, status_bp, notifications_bp, tokens_bp, devices_bp, operations_bp):
        app.register_blueprint(blueprint)
    # Each uploaded file stops at MAX_UPLOAD_MB while the body is parsed (413).
    app.request_class = UploadLimitedRequest
