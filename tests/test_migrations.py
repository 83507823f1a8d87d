"""The migrations create exactly what the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from auditflow import create_app
from auditflow.extensions import db
from tests.conftest import _config


@pytest.fixture
def migrated(backend, tmp_path):
    url = backend.new_database(schema=False)
    app = create_app(_config(url, tmp_path))
    with app.app_context():
        flask_migrate.upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_upgrade_gives_exactly_the_models(migrated):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_migrated_history_is_append_only(migrated):
    migrated.test_cli_runner().invoke(args=["seed"])
    with pytest.raises(Exception, match="append-only"), db.engine.begin() as connection:
        connection.execute(text("UPDATE history SET comment = 'changed'"))
    with pytest.raises(Exception, match="append-only"), db.engine.begin() as connection:
        connection.execute(text("DELETE FROM history"))
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM history")).scalar() > 0


def test_migrated_issued_reports_cannot_change(migrated):
    from auditflow.models import IssuedReport
    from tests.factories import Factory

    make = Factory()
    issuer = make.user("liaison")
    db.session.add(IssuedReport(audit=make.audit(), number=1, as_of=issuer.created_at.date(),
                                issued_by=issuer))
    db.session.commit()
    for statement in ("UPDATE issued_report SET number = 2", "DELETE FROM issued_report"):
        with pytest.raises(Exception, match="never changed"), db.engine.begin() as connection:
            connection.execute(text(statement))
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT number FROM issued_report")).scalar() == 1


def test_downgrade_removes_everything(migrated):
    flask_migrate.downgrade(revision="base")
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        remaining = set(context.dialect.get_table_names(connection)) - {"alembic_version"}
    assert remaining == set()
