"""The migrations create exactly what the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from auditflow import create_app
from auditflow.extensions import db
from auditflow.models.text_index import include_name
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
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                           "include_name": include_name})
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


@pytest.mark.parametrize("statement", [
    "UPDATE recommendation SET action_details = '  ' WHERE state = 'completed'",
    "UPDATE recommendation SET lead_team_id = NULL WHERE state = 'in_progress'",
    "UPDATE recommendation SET state = 'finished'",
])
def test_migrated_states_require_their_columns(migrated, statement):
    result = migrated.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    with pytest.raises(Exception, match="(?i)check|constraint"), db.engine.begin() as connection:
        connection.execute(text(statement))


def test_upgrade_refuses_items_that_break_the_new_rules(backend, tmp_path, capfd):
    url = backend.new_database(schema=False)
    app = create_app(_config(url, tmp_path))
    with app.app_context():
        flask_migrate.upgrade(revision="0002")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO audit (id, year, title, body, organisation, created_at) "
                "VALUES (1, 2025, '2025 행정사무감사', '의회', '재단', '2025-11-11 00:00:00')"))
            connection.execute(text(
                "INSERT INTO recommendation (id, audit_id, number, category, council_text, state, "
                "action_details, version, created_at, updated_at) VALUES (1, 1, 7, 'suggestion', "
                "'내용', 'completed', '', 1, '2025-11-11 00:00:00', '2025-11-11 00:00:00')"))
        with pytest.raises(SystemExit):  # Flask-Migrate logs the error and exits
            flask_migrate.upgrade()
        logged = capfd.readouterr().err
        assert "must be corrected before upgrading" in logged and "2025 행정사무감사 7번" in logged
        with db.engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert version == "0002"
        db.session.remove()
        db.engine.dispose()


def test_down_and_up_again_over_real_data_keeps_it(migrated):
    """Downgrades and upgrades rebuild tables on SQLite; the rows and what refers to them stay."""
    assert migrated.test_cli_runner().invoke(args=["seed"]).exit_code == 0

    def counts() -> tuple[int, int, int]:
        with db.engine.connect() as connection:
            return tuple(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                         for table in ("recommendation", "history", "user_account"))

    before = counts()
    flask_migrate.downgrade(revision="0002")
    flask_migrate.upgrade()
    assert counts() == before
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                           "include_name": include_name})
        assert compare_metadata(context, db.metadata) == []


def test_upgrade_keeps_the_choice_each_edition_was_made_with(backend, tmp_path):
    """0014 gives issued_report the 기한 변경 내역 choice: that of the job that made it."""
    url = backend.new_database(schema=False)
    app = create_app(_config(url, tmp_path))
    with app.app_context():
        flask_migrate.upgrade(revision="0008")
        at = "'2026-02-01 00:00:00'"
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO audit (id, year, title, body, organisation, created_at) "
                f"VALUES (1, 2025, '2025 행정사무감사', '의회', '재단', {at})"))
            connection.execute(text(
                "INSERT INTO user_account (id, login, name, role, password_hash, active, "
                "session_token, failed_logins, is_manager, created_at) VALUES (1, 'liaison', "
                f"'담당관', 'liaison', 'x', true, 'token', 0, false, {at})"))
            for number, include in ((1, "true"), (2, "false"), (3, None)):
                connection.execute(text(
                    "INSERT INTO issued_report (id, audit_id, number, as_of, issued_by_id, "
                    f"issued_at) VALUES ({number}, 1, {number}, '2026-01-31', 1, {at})"))
                if include is not None:
                    connection.execute(text(
                        "INSERT INTO report_job (kind, audit_id, as_of, include_due_changes, "
                        "requested_by_id, state, attempts, formats, formats_done, done, total, "
                        "missing, issued_report_id, created_at, finished_at) VALUES ('issue', 1, "
                        f"'2026-01-31', {include}, 1, 'done', 1, 'csv', 1, 0, 0, '', {number}, "
                        f"{at}, {at})"))
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            kept = connection.execute(text(
                "SELECT number, include_due_changes FROM issued_report ORDER BY number")).all()
        assert [(number, bool(include)) for number, include in kept] == [
            (1, True), (2, False), (3, True)]
        with pytest.raises(Exception, match="never changed"), db.engine.begin() as connection:
            connection.execute(text("UPDATE issued_report SET number = 9"))
        db.session.remove()
        db.engine.dispose()


def test_the_text_index_is_made_over_the_rows_already_there(migrated):
    """0016 indexes the items a database holds (FTS5 rebuild, the GIN index build)."""
    from auditflow.reports import text_search

    assert migrated.test_cli_runner().invoke(args=["seed"]).exit_code == 0
    flask_migrate.downgrade(revision="0014")
    flask_migrate.upgrade()
    with migrated.test_request_context():
        found = db.session.scalars(text("SELECT id FROM recommendation WHERE "
                                        "council_text LIKE '%디지털%'")).all()
        assert found
        from sqlalchemy import select

        from auditflow.models import Recommendation
        assert set(db.session.scalars(select(Recommendation.id).where(
            text_search.contains("디지털")))) == set(found)
        if db.engine.dialect.name == "sqlite":
            indexed = db.session.scalars(text(
                "SELECT rowid FROM recommendation_fts WHERE recommendation_fts MATCH '\"디지털\"'"))
            assert set(indexed) == set(found)
        db.session.remove()
