"""What every request goes through, pages and JSON alike: the application class with its
transaction boundary, sign-in sessions, access checks, error answers and security headers."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from auditflow.http import errors, security, sessions, tokens, transaction
    from auditflow.http.converters import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route is added

    transaction.init_app(app)
    sessions.init_app(app)  # Flask-Login on the rotating token; idle and absolute limits
    tokens.init_app(app)  # bearer tokens under /api; the CSRF check, skipped only for them
    security.register(app)
    errors.register(app)
