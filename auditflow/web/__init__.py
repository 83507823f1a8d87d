"""The web application: one blueprint per feature."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from auditflow.web.summary import bp as summary_bp

    app.register_blueprint(summary_bp)
