"""What every request goes through, pages and JSON alike: the application class with its
transaction boundary, sign-in sessions, access checks, error answers and security headers."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    from auditflow.http import errors, security, sessions, telemetry, tokens, transaction
    from auditflow.http.converters import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route is added
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops:
        # Behind nginx: the client's address and scheme as the proxy saw them (README,
        # Production). Only as many hops as are really there, or a client could name any.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    telemetry.init_app(app)  # the request id and the request's log line, around all the rest
    transaction.init_app(app)
    sessions.init_app(app)  # Flask-Login on the rotating token; idle and absolute limits
    tokens.init_app(app)  # bearer tokens under /api; the CSRF check, skipped only for them
    security.register(app)
    errors.register(app)
