"""Faults in production: a lost database connection, a request that dies mid-upload, the
daily sweep of temp files. The application runs as in production (exceptions answered)."""

from __future__ import annotations

import io
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from flask import has_request_context
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.pool import NullPool

from auditflow import jobs as jobs_module
from auditflow.extensions import db
from auditflow.models import Evidence, History
from auditflow.storage import files as storage_files
from auditflow.storage.transactional import file_store
from tests.auth_helpers import csrf_token, login
from tests.conftest import owner_engine
from tests.factories import PASSWORD
from tests.test_storage import make_pdf

LOSE = "/* lose the connection here */"


@pytest.fixture
def app_config():
    return {"PROPAGATE_EXCEPTIONS": False}


class Lost(sqlite3.OperationalError):
    """What a file database gives when its connection is gone (it never really is)."""


@pytest.fixture
def losing(own_app, backend) -> Iterator[dict[str, int]]:
    """Routes that read (GET) or write (POST) and lose their connection at the first
    statement marked ``LOSE``, once: on PostgreSQL the server ends the session
    (``pg_terminate_backend``), on SQLite the driver raises a disconnect."""
    state = {"armed": 1, "reads": 0, "writes": 0}

    def work(kind: str) -> str:
        state[kind] += 1
        db.session.execute(text(f"SELECT 1 {LOSE}"))
        if kind == "writes":
            db.session.execute(text("UPDATE chain_head SET length = length WHERE 1 = 0"))
        return str(db.session.scalar(select(func.count()).select_from(History)))

    own_app.add_url_rule("/_faults/read", "faults_read", lambda: work("reads"))
    own_app.add_url_rule("/_faults/write", "faults_write", lambda: work("writes"),
                         methods=["POST"])
    with own_app.app_context():
        engine = db.engine
    admin = None
    if backend.name == "postgresql":
        admin = create_engine(owner_engine_url(own_app), poolclass=NullPool)

    def before(connection, cursor, statement, parameters, context, executemany):
        if LOSE not in statement or not state["armed"] or not has_request_context():
            return
        state["armed"] -= 1
        if admin is None:
            raise Lost("disk I/O error: the connection was lost")
        pid = connection.connection.dbapi_connection.info.backend_pid
        with admin.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    def disconnect(context):
        if isinstance(context.original_exception, Lost):
            context.is_disconnect = True

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "handle_error", disconnect)
    yield state
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "handle_error", disconnect)
    if admin is not None:
        admin.dispose()


def owner_engine_url(app) -> str:
    with app.app_context():
        return owner_engine().url.render_as_string(hide_password=False)


def test_a_read_whose_connection_is_lost_is_read_once_more(own_app, losing):
    response = own_app.test_client().get("/_faults/read")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert losing["reads"] == 2 and losing["armed"] == 0


def test_a_write_whose_connection_is_lost_is_not_run_twice(own_app, losing):
    client = own_app.test_client()
    response = client.post("/_faults/write", data={"csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 500, response.get_data(as_text=True)
    assert "오류" in response.get_data(as_text=True) or response.is_json
    assert losing["writes"] == 1
    # The next request gets a working connection.
    assert client.get("/_faults/read").status_code == 200


def _pings(own_app, monkeypatch) -> list[int]:
    """The pings the application's pool sends from now on, counted."""
    with own_app.app_context():
        dialect = db.engine.dialect
    pings: list[int] = []
    real = dialect.do_ping

    def counted(dbapi_connection):
        pings.append(1)
        return real(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    return pings


def _count_route(own_app) -> list[int]:
    """A read route; the list gets an entry each time its view runs (a retried read twice)."""
    runs: list[int] = []

    def count() -> str:
        runs.append(1)
        return str(db.session.scalar(select(func.count()).select_from(History)))

    own_app.add_url_rule("/_faults/count", "faults_count", count)
    return runs


@pytest.mark.parametrize("app_config", [{"PROPAGATE_EXCEPTIONS": False,
                                         "DATABASE_PING_AFTER_IDLE_SECONDS": 0}])
def test_a_database_restart_while_the_pool_waits_costs_no_request(own_app, backend, monkeypatch):
    """PostgreSQL: the pooled connection is ended (as a restart does) while no request uses
    it; past the pause (here: any) the pool's ping notices and the next request gets a new
    one. SQLite has no server to restart, and no ping."""
    runs = _count_route(own_app)
    client = own_app.test_client()
    assert client.get("/_faults/count").status_code == 200
    pings = _pings(own_app, monkeypatch)
    if backend.name != "postgresql":
        assert client.get("/_faults/count").status_code == 200 and pings == []
        return
    # The connections this application's pool holds (not those of other tests' engines on the
    # same database, which a real restart would end too but which are not under test here).
    with own_app.app_context(), db.engine.connect() as pooled:
        pids = [pooled.connection.dbapi_connection.info.backend_pid]
    pings.clear()
    runs.clear()
    admin = create_engine(owner_engine_url(own_app), poolclass=NullPool)
    with admin.connect() as connection:
        ended = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE pid = ANY(:pids)"), {"pids": pids}).scalar()
    admin.dispose()
    assert ended == 1
    assert client.get("/_faults/count").status_code == 200
    assert pings and runs == [1]  # the ping found the connection gone: the read ran once


def test_a_connection_handed_on_soon_after_is_not_pinged(own_app, backend, monkeypatch):
    """Under load a connection goes back to the pool and out again at once: no ping (a round
    trip every request), as the pause before a ping (10 s by default) has not passed."""
    _count_route(own_app)
    client = own_app.test_client()
    assert client.get("/_faults/count").status_code == 200
    pings = _pings(own_app, monkeypatch)
    for _ in range(3):
        assert client.get("/_faults/count").status_code == 200
    assert pings == []
    assert own_app.config["DATABASE_PING_AFTER_IDLE_SECONDS"] == 10


# ─── uploads ─────────────────────────────────────────────────────────────────


@pytest.fixture
def own_temp(tmp_path, monkeypatch) -> Path:
    """The process's temp folder (where Werkzeug spools large request bodies), this test's."""
    folder = tmp_path / "process-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def leftovers(app, own_temp: Path) -> list[Path]:
    with app.app_context():
        root = file_store().root
    return sorted([*own_temp.rglob("*"), *(p for p in root.rglob("*") if p.is_file())])


def upload(app, item, data: bytes):
    recommendation, worker = item
    client = app.test_client()
    assert login(client, worker.login, PASSWORD).status_code == 303
    path = f"/recommendations/{recommendation.id}"
    token = csrf_token(client, path)
    return client.post(f"{path}/evidence", content_type="multipart/form-data",
                       data={"files": [(io.BytesIO(data), "결과.pdf")], "csrf_token": token})


@pytest.fixture
def item(make):
    return make.worked_item()


BIG = make_pdf() + b"%" + b"0" * (3 * 1024 * 1024)  # spooled to disk by Werkzeug


def test_a_request_that_dies_while_storing_an_upload_leaves_no_temp_file(
        app, item, own_temp, monkeypatch):
    written: list[int] = []
    real = storage_files._write_all

    def dies(fd: int, data: bytes) -> None:
        real(fd, data)
        written.append(len(data))
        if len(written) == 3:  # the worker's timeout, mid-file
            raise SystemExit(1)

    monkeypatch.setattr(storage_files, "_write_all", dies)
    with pytest.raises(SystemExit):  # the process goes: no answer
        upload(app, item, BIG)
    assert len(written) == 3
    assert leftovers(app, own_temp) == []
    assert db.session.scalar(select(func.count()).select_from(Evidence)) == 0


def test_a_request_that_dies_while_checking_an_upload_leaves_no_temp_file(
        app, item, own_temp, monkeypatch):
    from auditflow.services import evidence as evidence_service

    checked: list[Path] = []

    def dies(path: Path, **_kwargs):
        checked.append(path)
        assert path.is_file()  # stored as a temp file, then the request dies
        raise MemoryError("the checker gave out")

    monkeypatch.setattr(evidence_service, "sniff", dies)
    response = upload(app, item, BIG)
    assert response.status_code == 500
    assert len(checked) == 1 and not checked[0].exists()
    assert leftovers(app, own_temp) == []


def test_a_request_whose_body_is_cut_off_leaves_no_temp_file(app, item, own_temp):
    recommendation, worker = item
    client = app.test_client()
    assert login(client, worker.login, PASSWORD).status_code == 303
    path = f"/recommendations/{recommendation.id}"
    token = csrf_token(client, path)
    boundary = "cut"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode() + BIG
    response = client.post(f"{path}/evidence", input_stream=io.BytesIO(body),
                           content_length=len(body) + 1024 * 1024,  # the rest never comes
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code in {400, 500}
    assert leftovers(app, own_temp) == []
    assert db.session.scalar(select(func.count()).select_from(Evidence)) == 0


def test_the_daily_sweep_removes_old_temp_files_only(app, app_context):
    queue = app.extensions["auditflow.jobs"]
    task = queue.sweep_storage
    runs_at = task.task_class().validate_datetime  # the periodic task's crontab, in UTC
    seoul_03_41 = datetime(2026, 12, 3, 18, 41)  # 03:41 the next day in Asia/Seoul
    assert runs_at(seoul_03_41)
    assert not runs_at(seoul_03_41.replace(minute=42))
    assert not runs_at(seoul_03_41.replace(hour=19))
    store = file_store()
    old = store.tmp_dir / "upload-old.part"
    new = store.tmp_dir / "upload-new.part"
    for path in (old, new):
        path.write_bytes(b"x")
    day_ago = time.time() - jobs_module.STORAGE_TEMP_MAX_AGE - 60
    os.utime(old, (day_ago, day_ago))
    assert task.call_local() == 1
    assert not old.exists() and new.exists()
