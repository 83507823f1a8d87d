"""The JSON API: v1 under /api/v1 (flask-smorest, OpenAPI 3 at /api/v1/openapi.json), its
documentation page, the rate limit per caller, and the first two endpoints' old /api paths
(308 to v1). Errors are problem details (``auditflow.http.errors``)."""

from __future__ import annotations

from flask import Flask

from auditflow.api.docs import register as register_docs
from auditflow.api.legacy import bp as legacy_bp
from auditflow.api.limits import init_limiter
from auditflow.api.spec import make_api
from auditflow.api.v1 import bp as v1_bp


def init_app(app: Flask) -> None:
    api = make_api(app)
    api.register_blueprint(v1_bp)
    app.register_blueprint(legacy_bp)
    register_docs(app)
    init_limiter(app)
