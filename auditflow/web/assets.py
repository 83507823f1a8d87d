"""Static files: the KRDS design system from node_modules and our own CSS/JS.

Everything is served by Flask from this machine; no page loads anything from
the internet (the CSP allows only 'self'). ``make install`` runs ``npm ci`` to
put ``krds-uiux`` in node_modules.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask

REPO = Path(__file__).resolve().parents[2]
# KRDS ships its stylesheets with relative links (../../img/..., ../../css/token/...),
# so the whole resources folder is served under one prefix and those links resolve.
KRDS_DIR = REPO / "node_modules" / "krds-uiux" / "resources"
UI_DIR = Path(__file__).resolve().parent / "static"

krds = Blueprint("krds", __name__, static_folder=str(KRDS_DIR), static_url_path="/assets/krds")
ui = Blueprint("ui", __name__, static_folder=str(UI_DIR), static_url_path="/assets/ui")

# Endpoints that serve files, not pages: the access matrix does not list them.
ASSET_ENDPOINTS = frozenset({"static", "krds.static", "ui.static", "api_docs.static"})


def register(app: Flask) -> None:
    app.register_blueprint(krds)
    app.register_blueprint(ui)
