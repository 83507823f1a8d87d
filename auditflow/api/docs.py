"""The API's documentation page: the operations of the OpenAPI document, drawn in the browser
by a script of our own (no CDN, no inline script; CSP ``script-src 'self'``)."""

from __future__ import annotations

import os

from flask import Blueprint, Flask, render_template

STATIC = os.path.join(os.path.dirname(__file__), "static")

bp = Blueprint("api_docs", __name__, static_folder=STATIC, static_url_path="/api/v1/assets")


@bp.get("/api/v1/docs")
def page() -> str:
    return render_template("api/docs.html")


def register(app: Flask) -> None:
    app.register_blueprint(bp)
