"""Tamper-evident history and editions: every way of changing them behind the application's
back is named by ``flask integrity verify``; a database left alone verifies."""

from __future__ import annotations

import contextvars
import io
import json
import threading
from datetime import date

import pytest
from sqlalchemy import func, select, text

from auditflow import create_app
from auditflow.extensions import db
from auditflow.models import (
    Audit,
    ChainHead,
    History,
    IntegrityCheck,
    IssuedReport,
    IssuedReportFile,
    Recommendation,
    User,
)
from auditflow.models.chain import link
from auditflow.services import evidence as evidence_ops
from auditflow.services import recommendations as ops
from auditflow.services.issuing import issue
from auditflow.storage.transactional import file_store
from tests.auth_helpers import login
from tests.conftest import DEMO_PASSWORD, _config, owner_engine, tamper_stored
from tests.test_evidence_service import make_pdf

REFERENCE = date(2026, 1, 31)


def verify(app):
    return app.test_cli_runner().invoke(args=["integrity", "verify"])


def owner_sql(statements: list[str], backend_name: str) -> None:
    """What someone who owns the tables (or the SQLite file) can do, outside the application."""
    db.session.commit()
    with owner_engine().begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)
    db.session.expire_all()


def without_triggers(statement: str, backend, table: str = "history") -> list[str]:
    """``statement`` with the append-only triggers out of the way, as each database allows."""
    if backend.name == "postgresql":
        return ["SET LOCAL session_replication_role = replica", statement]
    return [f"DROP TRIGGER {table}_no_update", f"DROP TRIGGER {table}_no_delete", statement]


def history_ids() -> list[int]:
    return list(db.session.scalars(select(History.id).order_by(History.chain_seq)))


@pytest.fixture
def issued(seeded, render_once, app_context):
    audit = db.session.scalar(select(Audit).filter_by(year=2025))
    liaison = db.session.scalar(select(User).filter_by(login="liaison"))
    result = issue(audit, REFERENCE, liaison)
    db.session.commit()
    return result.issued


def test_a_fresh_database_verifies(app, app_context):
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert "history: 0" in result.output and "이상 없음" in result.output


def test_the_seed_and_an_edition_verify_with_counts(app, issued):
    rows = db.session.scalar(select(func.count()).select_from(History))
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert f"history: {rows}" in result.output
    assert "issued_report: 1" in result.output
    assert f"issued files: {len(issued.files)}" in result.output
    check = db.session.scalar(select(IntegrityCheck))
    assert check is not None and check.ok and json.loads(check.counts)["history"] == rows


def test_rows_are_chained_in_their_own_transaction(seeded, app_context):
    rows = list(db.session.scalars(select(History).order_by(History.chain_seq)))
    assert [row.chain_seq for row in rows] == list(range(1, len(rows) + 1))
    previous = "0" * 64
    for row in rows:
        assert row.chain_prev == previous
        previous = row.chain_hash
    head = db.session.get(ChainHead, "history")
    assert head.length == len(rows) and head.head == previous
    rec = db.session.scalar(select(Recommendation).limit(1))
    audit_user = db.session.scalar(select(User).filter_by(login="audit"))
    ops.set_due_date(rec, audit_user, date(2027, 1, 1), reason="연장")
    db.session.rollback()
    assert db.session.get(ChainHead, "history").length == len(rows)


def test_update_with_triggers_out_of_the_way_is_named(app, seeded, backend):
    target = history_ids()[4]
    owner_sql(without_triggers(
        f"UPDATE history SET comment = '고친 사유' WHERE id = {target}", backend), backend.name)
    result = verify(app)
    assert result.exit_code == 1
    assert f"history id {target} " in result.output and "[edited]" in result.output


def test_update_that_rewrites_the_hash_names_the_changed_row(app, seeded, backend):
    target = history_ids()[4]
    row = db.session.execute(select(History.__table__).where(History.id == target)).mappings().one()
    values = {**row, "comment": "고친 사유"}
    forged = link(row["chain_prev"], row["chain_seq"], values)
    owner_sql(without_triggers(
        f"UPDATE history SET comment = '고친 사유', chain_hash = '{forged}' WHERE id = {target}",
        backend), backend.name)
    result = verify(app)
    assert result.exit_code == 1
    assert f"history id {target} " in result.output and "[edited]" in result.output


def test_delete_is_named(app, seeded, backend):
    ids = history_ids()
    owner_sql(without_triggers(f"DELETE FROM history WHERE id = {ids[3]}", backend), backend.name)
    result = verify(app)
    assert result.exit_code == 1
    assert "[deleted]" in result.output and f"(id {ids[2]} 다음)" in result.output


def test_delete_at_the_end_is_named(app, seeded, backend):
    ids = history_ids()
    owner_sql(without_triggers(f"DELETE FROM history WHERE id = {ids[-1]}", backend), backend.name)
    result = verify(app)
    assert result.exit_code == 1
    assert "[deleted]" in result.output and f"순번 {len(ids)}" in result.output


def test_truncate_is_named(app, seeded, backend):
    if backend.name == "postgresql":
        statements = ["TRUNCATE history"]
    else:
        statements = without_triggers("DELETE FROM history", backend)
    owner_sql(statements, backend.name)
    result = verify(app)
    assert result.exit_code == 1
    assert "[deleted]" in result.output and "history 순번 1–" in result.output


def test_rows_seen_by_an_earlier_verification_cannot_go_with_the_head(app, seeded, backend):
    assert verify(app).exit_code == 0
    ids = history_ids()
    owner_sql([*without_triggers(f"DELETE FROM history WHERE id = {ids[-1]}", backend),
               "UPDATE chain_head SET length = length - 1 WHERE name = 'history'"], backend.name)
    # The head was moved back too, but the previous run saw the last row.
    owner_sql([
        "UPDATE chain_head SET head = (SELECT chain_hash FROM history "
        "ORDER BY chain_seq DESC LIMIT 1) WHERE name = 'history'"], backend.name)
    result = verify(app)
    assert result.exit_code == 1
    assert "[deleted]" in result.output and "지난 검증 때" in result.output


BACK_DATED = (
    "INSERT INTO history (recommendation_id, at, actor_id, kind, trigger, from_state, "
    "to_state, comment{extra}) VALUES ({rec}, '2026-01-20 00:00:00{zone}', NULL, "
    "'transition', 'approve', 'in_progress', 'completed', NULL{values})"
)


def test_back_dated_insert_without_a_hash_is_named(app, seeded, backend):
    rec = open_item()
    zone = "+00" if backend.name == "postgresql" else ""
    owner_sql([BACK_DATED.format(extra="", rec=rec, zone=zone, values="")], backend.name)
    new_id = max(history_ids_all())
    result = verify(app)
    assert result.exit_code == 1
    assert f"history id {new_id}" in result.output and "[inserted]" in result.output


def test_back_dated_insert_with_a_copied_hash_is_named(app, seeded, backend):
    """A row put in after the last one with its hash copied: its columns do not give it."""
    rec = open_item()
    head = db.session.get(ChainHead, "history")
    last = db.session.execute(select(History.chain_seq, History.chain_prev, History.chain_hash)
                              .where(History.chain_seq == head.length)).one()
    zone = "+00" if backend.name == "postgresql" else ""
    owner_sql([BACK_DATED.format(
        extra=", chain_seq, chain_prev, chain_hash", rec=rec, zone=zone,
        values=f", {last[0] + 1}, '{last[2]}', '{last[2]}'")], backend.name)
    new_id = max(history_ids_all())
    result = verify(app)
    assert result.exit_code == 1
    assert f"history id {new_id} " in result.output


def test_the_back_dated_insert_changes_the_table_it_is_caught_for(app, seeded, backend):
    before = app.test_cli_runner().invoke(
        args=["summary", "--as-of", "2026-01-31", "--format", "json"]).output
    rec = open_item()
    zone = "+00" if backend.name == "postgresql" else ""
    owner_sql([BACK_DATED.format(extra="", rec=rec, zone=zone, values="")], backend.name)
    after = app.test_cli_runner().invoke(
        args=["summary", "--as-of", "2026-01-31", "--format", "json"]).output
    assert before != after  # the attack works on the table ...
    assert verify(app).exit_code == 1  # ... and is seen


def open_item() -> int:
    return db.session.scalar(
        select(Recommendation.id).where(Recommendation.state == "in_progress").limit(1))


def history_ids_all() -> list[int]:
    return list(db.session.scalars(select(History.id)))


def test_issued_edition_edited_is_named(app, issued, backend):
    owner_sql(without_triggers(f"UPDATE issued_report SET as_of = '2026-01-01' "
                               f"WHERE id = {issued.id}", backend, "issued_report"), backend.name)
    result = verify(app)
    assert result.exit_code == 1
    assert f"issued_report id {issued.id} " in result.output and "[edited]" in result.output


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_issued_file_bytes_changed_are_named_and_not_served(app, issued):
    row = issued.files[0]
    with file_store().open(row.storage_key) as kept:
        tamper_stored(row.storage_key, kept.read() + b" ")
    result = verify(app)
    assert result.exit_code == 1
    assert f"issued_report_file id {row.id}" in result.output and "[bytes_changed]" in result.output
    client = app.test_client()
    assert login(client, "liaison", DEMO_PASSWORD).status_code == 303
    response = client.get(f"/summary/{issued.audit_id}/issued/{issued.id}/{row.format}")
    assert response.status_code == 409
    assert "변경" in response.get_data(as_text=True)
    other = issued.files[1]
    response = client.get(f"/summary/{issued.audit_id}/issued/{issued.id}/{other.format}")
    assert response.status_code == 200


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_evidence_bytes_changed_are_named(app, seeded):
    rec = db.session.scalar(select(Recommendation).where(Recommendation.state == "in_progress"))
    worker = db.session.scalar(select(User).where(User.team_id == rec.lead_team_id,
                                                  User.role == "department"))
    stored = evidence_ops.upload(rec, worker, io.BytesIO(make_pdf()), "결과.pdf")
    db.session.commit()
    assert verify(app).exit_code == 0
    tamper_stored(stored.storage_key, make_pdf() + b"%changed")
    result = verify(app)
    assert result.exit_code == 1
    assert f"evidence id {stored.id}" in result.output and "[bytes_changed]" in result.output


def test_the_admin_page_shows_the_last_verification(app, seeded):
    client = app.test_client()
    assert login(client, "admin", DEMO_PASSWORD).status_code == 303
    assert "아직 검증한 적이 없습니다" in client.get("/admin/integrity").get_data(as_text=True)
    assert verify(app).exit_code == 0
    page = client.get("/admin/integrity").get_data(as_text=True)
    assert "이상 없음" in page and "history" in page
    other = app.test_client()
    assert login(other, "audit", DEMO_PASSWORD).status_code == 303
    assert other.get("/admin/integrity").status_code == 403


def test_concurrent_chained_inserts_take_turns(app, seeded):
    rec_ids = list(db.session.scalars(select(Recommendation.id).order_by(Recommendation.id)
                                      .limit(2)))
    auditor_id = db.session.scalar(select(User.id).filter_by(login="audit"))
    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[str] = []

    def act(rec_id: int, day: int) -> None:
        with app.app_context():
            try:
                rec = db.session.get(Recommendation, rec_id)
                user = db.session.get(User, auditor_id)
                barrier.wait()
                for step in range(3):
                    ops.set_due_date(rec, user, date(2027, 1, day + step), reason="동시에")
                db.session.commit()
                outcomes.append("ok")
            except Exception as error:  # anything else fails the test
                db.session.rollback()
                outcomes.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=act, args=(rec_id, 1 + 10 * n))
               for n, rec_id in enumerate(rec_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes == ["ok", "ok"]
    result = verify(app)
    assert result.exit_code == 0, result.output


def test_issued_rows_name_their_chain(issued):
    rows = db.session.scalars(select(IssuedReportFile).order_by(IssuedReportFile.chain_seq)).all()
    assert [row.chain_seq for row in rows] == list(range(1, len(rows) + 1))
    assert db.session.get(IssuedReport, issued.id).chain_seq == 1


def test_the_migration_chains_existing_rows(backend, tmp_path):
    """Rows written before the chains existed get their hashes from the migration."""
    import flask_migrate

    url = backend.new_database(schema=False)
    app = create_app(_config(url, tmp_path))
    with app.app_context():
        flask_migrate.upgrade()
        assert app.test_cli_runner().invoke(args=["seed"]).exit_code == 0
        rows = db.session.scalar(select(func.count()).select_from(History))
        db.session.remove()
        flask_migrate.downgrade(revision="0008")
        flask_migrate.upgrade()
        result = app.test_cli_runner().invoke(args=["integrity", "verify"])
        assert result.exit_code == 0, result.output
        assert f"history: {rows}" in result.output
        with pytest.raises(Exception, match="append-only"), db.engine.begin() as connection:
            connection.execute(text("UPDATE history SET comment = 'changed'"))
        db.session.remove()
        db.engine.dispose()


def test_the_app_role_may_only_read_and_add_to_the_chained_tables(app, seeded, backend,
                                                                  tmp_path):
    """PostgreSQL: the role of ``grant-app-role`` reads and adds history, and nothing more."""
    if backend.name != "postgresql":
        result = app.test_cli_runner().invoke(args=["integrity", "grant-app-role",
                                                    "--role", "auditflow_app"])
        assert result.exit_code == 1 and "postgresql_only" in result.output
        return
    from sqlalchemy import create_engine, make_url

    role = "auditflow_role_test"
    with owner_engine().begin() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"),
                                  {"r": role}).scalar():
            connection.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
    owner_url = owner_engine().url.render_as_string(hide_password=False)
    owner_app = create_app(_config(owner_url, tmp_path))
    # In a context of its own, as a separate command would run (not inside the test's).
    result = contextvars.Context().run(lambda: owner_app.test_cli_runner().invoke(
        args=["integrity", "grant-app-role", "--role", role]))
    with owner_app.app_context():
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    assert 'GRANT SELECT, INSERT ON "history"' in result.output
    url = make_url(str(owner_engine().url)).set(username=role, password=None)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            assert connection.execute(text("SELECT count(*) FROM history")).scalar() > 0
            connection.execute(text("UPDATE recommendation SET version = version"))
        for statement in ("UPDATE history SET comment = 'x'", "DELETE FROM history",
                          "TRUNCATE history", "ALTER TABLE history DISABLE TRIGGER ALL",
                          "DROP TRIGGER history_no_update ON history",
                          "SET session_replication_role = replica",
                          "UPDATE issued_report SET number = 2", "TRUNCATE issued_report_file"):
            with pytest.raises(Exception, match="(?i)permission denied|must be owner"), \
                    engine.begin() as connection:
                connection.execute(text(statement))
    finally:
        engine.dispose()
        with owner_engine().begin() as connection:
            connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
