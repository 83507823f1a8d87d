"""auditflow: 행정사무감사 처리결과 관리.

``create_app`` is the composition root: the one place that knows every layer
(see docs/architecture.md) and wires them into one application.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Application factory: defaults, then ``AUDITFLOW_*`` variables, then ``config``."""
    from auditflow import config as settings
    from auditflow.db import engine_options, ping_after_idle
    from auditflow.http.application import Application

    app = Application(
        __name__,
        instance_relative_config=True,
        template_folder=os.path.join(os.path.dirname(os.path.dirname(__file__)), "templates"),
    )
    values = settings.finalise(settings.from_environment(app.instance_path), config)
    values["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **engine_options(values["SQLALCHEMY_DATABASE_URI"], values["SQLITE_BUSY_TIMEOUT_MS"]),
        **values.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
    }
    app.config.update(values)
    os.makedirs(app.instance_path, exist_ok=True)

    from auditflow import api, cli, http, jobs, models, web  # noqa: F401  (models: the tables)
    from auditflow.extensions import csrf, db, migrate

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            ping_after_idle(engine, app.config["DATABASE_PING_AFTER_IDLE_SECONDS"])
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    csrf.init_app(app)

    http.init_app(app)
    jobs.init_app(app)
    web.register(app)
    api.init_app(app)
    cli.register(app)
    return app
