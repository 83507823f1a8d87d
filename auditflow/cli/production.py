"""``flask --app auditflow production check``: what production refuses to start with.

``make prod`` runs it before gunicorn and the worker, and gunicorn's own start-up runs it
again (deploy/gunicorn.conf.py), so neither serves in production while it fails. What the
settings alone can tell (no secret key, SQLite on more than one machine) is refused by
``config.finalise`` when the application is made; this adds what only the database can:
demo accounts someone could sign in to.
"""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from auditflow.cli.common import fail
from auditflow.errors import DomainError
from auditflow.services import operations


def refusals(app: Flask) -> list[DomainError]:
    """Why ``app`` must not serve in production (nothing outside production)."""
    if app.config["AUDITFLOW_ENV"] != "production":
        return []
    with app.app_context():
        demo = operations.demo_accounts()
    if not demo:
        return []
    return [DomainError(
        f"시연용 계정({', '.join(demo)})이 있어 운영 환경에서 시작하지 않습니다. "
        "사용자 관리(/admin/users)에서 비활성화하세요 / demo accounts made by "
        "`flask seed --demo` can be signed in to: deactivate them before production.",
        code="demo_accounts_present")]


@click.group("production")
def production_group() -> None:
    """운영 환경 점검."""


@production_group.command("check")
@with_appcontext
def production_check() -> None:
    """운영 환경에서 시작해도 되는지 점검합니다 (비밀 키, 시연용 계정, 데이터베이스)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = refusals(app)
    if found:
        fail(found[0], [f"[{error.code}] {error.message}" for error in found[1:]])
    click.echo(f"운영 점검 통과 (환경: {app.config['AUDITFLOW_ENV']})")
