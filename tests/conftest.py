"""Fixtures: a fresh database per test, on SQLite and (when configured) on PostgreSQL.

Set ``AUDITFLOW_TEST_DATABASE_URL`` to a PostgreSQL server database (e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``) and every test that uses
a database runs a second time there, in a database of its own made for this
run and dropped afterwards.

As in the Flask tutorial, ``app`` is the application outside any context: each
request of the test client gets its own application context, ``g`` and
database session, exactly as in production (``IsolatedClient``). A test that
reads or writes the database itself asks for ``app_context`` (``make`` and
``seeded`` do); what it made is committed before each request, so the request
sees it, and its cached rows are forgotten after each request, so the test
sees what the request did.

Set ``AUDITFLOW_TEST_APP_ROLE`` too (e.g. ``auditflow_app``) and, on PostgreSQL, the
application runs as that role, which may only SELECT and INSERT on the chained tables
(``flask integrity grant-app-role``), as in production; the tables are made, emptied and
restored by their owner (``owner_engine()``).

The work report and the real evidence samples live in ``../shared`` (or
``AUDITFLOW_SHARED_DIR``), not in the repository; tests that need them ask
``shared`` and are skipped with one reason when it is absent, except under
``CI=true``, where its absence fails them.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import gc
import os
import secrets
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, current_app, has_app_context
from flask.testing import FlaskClient, FlaskCliRunner
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Engine

from auditflow import create_app
from auditflow.extensions import db
from auditflow.reports import memo
from tests.mail_helpers import SmtpServer

REPO = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("AUDITFLOW_SHARED_DIR") or REPO.parent / "shared")
SHARED_MISSING = (
    f"needs the shared material (the work report and the evidence samples) in {SHARED_DIR}: "
    "put the shared/ folder beside the checkout, or set AUDITFLOW_SHARED_DIR to it"
)
PG_URL = os.environ.get("AUDITFLOW_TEST_DATABASE_URL")
APP_ROLE = os.environ.get("AUDITFLOW_TEST_APP_ROLE") if PG_URL else None
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
DEMO_PASSWORD = "Demo-pass-2025!"


# Tests of what a file looks like (a PDF's pages, a HWPX read by other readers, LibreOffice
# reading an XLSX) render a ``Report`` -- frozen data, built from the database by
# ``build_report``, which its own tests check on both databases. Marked ``file_format``,
# they render it once, from SQLite. The browser stories run once too, on the production
# database when one is set (tests/browser/conftest.py): what they drive at the database level
# is tested on both by the web tests.
# The production command's smoke test serves the product on PostgreSQL, the production
# database: it exists where the suite has PostgreSQL (AUDITFLOW_TEST_DATABASE_URL, as CI sets),
# as the PostgreSQL runs of the database tests do.
collect_ignore = [] if PG_URL else ["test_production_smoke.py"]

ONE_DATABASE_FOR_FILES = "sqlite"
ONE_DATABASE_FOR_BROWSER = BACKENDS[-1]

# The tests with a real job queue (a ``queue`` fixture: the notifications, 발행 by a worker)
# run once per database, each with the queue kind it is deployed with: SQLite with the
# SQLite queue file (one machine), PostgreSQL with Redis (several machines; SQLite is
# refused there). Without PostgreSQL, SQLite takes both kinds, so that both are still run.
QUEUE_KINDS = ("sqlite-queue", "redis-queue")
QUEUE_PAIRS = ([("sqlite", "sqlite-queue"), ("postgresql", "redis-queue")] if PG_URL
               else [("sqlite", kind) for kind in QUEUE_KINDS])


@pytest.hookimpl(tryfirst=True)  # before the fixture's own params (both databases)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    # As a parametrize mark, which pytest then applies, and which takes precedence over the
    # fixture's own params.
    one = (ONE_DATABASE_FOR_FILES if metafunc.definition.get_closest_marker("file_format")
           else ONE_DATABASE_FOR_BROWSER if metafunc.definition.get_closest_marker("browser")
           else None)
    if one is not None:
        metafunc.definition.add_marker(
            pytest.mark.parametrize("backend", [one], indirect=True, scope="session"))
    elif "queue" in metafunc.fixturenames:
        metafunc.definition.add_marker(pytest.mark.parametrize(
            ("backend", "queue"), [pytest.param(*pair, id="-".join(pair)) for pair in QUEUE_PAIRS],
            indirect=True, scope="session"))


@pytest.hookimpl(trylast=True)  # after pytest has grouped the tests by database
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser stories first, then the tests without a database, then the rest in
    pytest's order (by database). The longest tests are among the first two (the browser,
    ``make prod``, the benchmarks and the runs in other processes), which would otherwise
    come last, where the worker that took them would run on alone while the other has
    nothing left (``pytest -n 2`` hands the tests out in their order)."""
    def rank(item: pytest.Item) -> int:
        if item.get_closest_marker("browser"):
            return 0
        return 1 if "backend" not in getattr(item, "fixturenames", ()) else 2

    items.sort(key=rank)  # stable: the order within each kind is kept


def pytest_collection_finish(session: pytest.Session) -> None:
    """What the collection made (the modules, the application's and the libraries' objects,
    the test items) lives for the whole run: out of the collector's sight (``gc.freeze``), and
    the youngest generation collected after 50,000 allocations rather than 700. The cycle
    collector otherwise walks those objects again and again, some 8 % of a worker's time."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def pytest_report_header(config: pytest.Config) -> str:
    if PG_URL:
        role = f", the application as role {APP_ROLE}" if APP_ROLE else ""
        return f"databases: SQLite and PostgreSQL ({make_url(PG_URL).render_as_string()}{role})"
    return "databases: SQLite only (set AUDITFLOW_TEST_DATABASE_URL to add PostgreSQL)"


def _pg_admin_url() -> str:
    url = make_url(PG_URL)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


class Backend:
    """One database server for the test session, handing out fresh databases."""

    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.workdir = workdir
        self.created: list[str] = []
        self._template: Path | None = None
        self._pg_url: str | None = None
        # What tests keep for the life of this server (a new one starts afresh): the
        # applications made on it, database snapshots, and anything a test module keeps.
        self.apps: dict[str, _Made] = {}
        self.snapshots: dict[str, DatabaseSnapshot] = {}
        self.kept: dict[Any, Any] = {}
        self.owners: dict[str, str] = {}  # the application's URL → its tables' owner's URL

    # SQLite: a schema built once, copied per test.
    def sqlite_template(self) -> Path:
        if self._template is None:
            self._template = self.workdir / "template.db"
            app = create_app(_config(f"sqlite:///{self._template}", self.workdir))
            with app.app_context():
                db.create_all()
                db.session.remove()
                db.engine.dispose()
        return self._template

    def new_database(self, *, schema: bool = True) -> str:
        if self.name == "sqlite":
            path = self.workdir / f"{uuid.uuid4().hex}.db"
            if schema:
                shutil.copy(self.sqlite_template(), path)
            return f"sqlite:///{path}"
        name = f"auditflow_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        url = make_url(_pg_admin_url()).set(database=name).render_as_string(hide_password=False)
        if schema:
            app = create_app(_config(url, self.workdir))
            with app.app_context():
                db.create_all()
                if APP_ROLE:
                    from auditflow.services.integrity import grant_app_role

                    grant_app_role(APP_ROLE)
                    db.session.commit()
                db.session.remove()
                db.engine.dispose()
            if APP_ROLE:
                owner = url
                url = make_url(url).set(username=APP_ROLE, password=None).render_as_string(
                    hide_password=False)
                self.owners[url] = owner
        return url

    def owner_engine(self, url: str) -> Engine | None:
        """An engine of the tables' owner when the application runs as another role."""
        owner = self.owners.get(url)
        return create_engine(owner, **NO_DISK_WAIT) if owner else None

    def shared_database(self) -> str:
        """PostgreSQL: one database for the session, emptied after each test."""
        if self._pg_url is None:
            self._pg_url = self.new_database()
        return self._pg_url

    def close(self) -> None:
        if not self.created:
            return
        admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# A test database need not survive a power cut: commits do not wait for the disk.
# (Durability is the server's business; what the tests check is visibility and
# atomicity, which these settings keep.)
NO_DISK_WAIT = {"connect_args": {"options": "-c synchronous_commit=off"}}


@event.listens_for(Engine, "connect")
def _sqlite_without_disk_wait(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous=OFF")


def _config(url: str, workdir: Path, **extra: object) -> dict[str, object]:
    engine = NO_DISK_WAIT if make_url(url).get_backend_name() == "postgresql" else {}
    return {
        "AUDITFLOW_ENV": "testing",
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine,
        "STORAGE_DIR": str(workdir / "storage"),
        "QUEUE_PATH": str(workdir / "queue.db"),
        "DEMO_PASSWORD": DEMO_PASSWORD,
        **extra,
    }


def _ensure_app_role() -> None:
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :name"),
                                    {"name": APP_ROLE}).scalar()
        if not exists:
            with contextlib.suppress(Exception):  # made at the same moment by another worker
                connection.execute(text(f'CREATE ROLE "{APP_ROLE}" LOGIN'))
    admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    if request.param == "postgresql" and APP_ROLE:
        _ensure_app_role()
    server = Backend(request.param, tmp_path_factory.mktemp(request.param))
    yield server
    server.close()


@dataclass(frozen=True)
class S3Server:
    """A local S3-compatible server (moto's server mode) with one bucket, for the tests."""

    endpoint: str
    bucket: str
    client: Any

    def settings(self) -> dict[str, object]:
        """The application's settings for a prefix of its own in the bucket."""
        return {"STORAGE_URL": f"s3://{self.bucket}/{secrets.token_hex(8)}",
                "S3_ENDPOINT_URL": self.endpoint, "S3_REGION": "us-east-1",
                "S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test"}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    client.create_bucket(Bucket="auditflow-test")
    yield S3Server(endpoint, "auditflow-test", client)
    server.stop()


@pytest.fixture(params=["folder", "s3"])
def storage_kind(request: pytest.FixtureRequest, app: Flask) -> str:
    """Run the test with the stored files in the folder, then in the object store: a module
    asks for it with ``pytestmark = pytest.mark.usefixtures("storage_kind")``."""
    if request.param == "s3":
        server: S3Server = request.getfixturevalue("s3_server")
        app.config.update(server.settings())
        app.extensions.pop("auditflow.file_store", None)
    return str(request.param)


def tamper_stored(key: str, data: bytes | None) -> None:
    """Change a stored file behind the application's back (``None``: remove it), in the
    folder or in the object store: what a failing disk or an intruder would do."""
    from auditflow.storage.s3 import S3Store
    from auditflow.storage.transactional import file_store

    store = file_store()
    if isinstance(store, S3Store):
        if data is None:
            store.client.delete_object(Bucket=store.bucket, Key=store.object_key(key))
        else:
            store.client.put_object(Bucket=store.bucket, Key=store.object_key(key), Body=data)
        return
    path = store.local_path(key)
    assert path is not None
    if data is None:
        path.unlink()
    else:
        path.write_bytes(data)


@pytest.fixture
def app_config(tmp_path: Path) -> dict[str, object]:
    """Extra settings a test module may override before ``app`` is made."""
    return {}


class Shared:
    """The shared material beside the checkout: the work report and the evidence samples."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.work_report = root / "seeds" / "000_03f392f4ab3cc35b.txt"
        self.evidence_dir = root / "samples" / "evidence"

    def evidence(self, name: str) -> Path:
        path = self.evidence_dir / name
        if not path.is_file():
            pytest.fail(f"evidence sample {name} is missing from {self.evidence_dir}")
        return path


def shared_material() -> Shared:
    """The shared material, or skip the test (fail it under CI=true) when it is absent."""
    if SHARED_DIR.is_dir():
        return Shared(SHARED_DIR)
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI=true but {SHARED_MISSING}")
    pytest.skip(SHARED_MISSING)


@pytest.fixture(scope="session")
def shared() -> Shared:
    return shared_material()


def evidence_sample(name: str) -> Path:
    """A real HWP/HWPX evidence file of the shared material (read there, never copied)."""
    return shared_material().evidence(name)


def _isolated(call: Any) -> Any:
    """Run ``call`` as a separate request would: in an empty context of its own.

    The test's own session (if it holds an application context) commits first,
    so the request sees what the test made, and forgets its rows afterwards, so
    the test then reads what the request did.
    """
    holding = has_app_context()
    if holding:
        db.session.commit()
    try:
        return contextvars.Context().run(call)
    finally:
        if holding:
            db.session.expire_all()


class _CompiledTemplates(BytecodeCache):
    """Each test makes an application of its own, whose Jinja environment would compile
    every template again; the compiled code is kept here for the whole run instead."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = _CompiledTemplates()


class IsolatedClient(FlaskClient):
    def open(self, *args: Any, **kwargs: Any) -> Any:
        return _isolated(lambda: super(IsolatedClient, self).open(*args, **kwargs))


class IsolatedCliRunner(FlaskCliRunner):
    def invoke(self, *args: Any, **kwargs: Any) -> Any:
        return _isolated(lambda: super(IsolatedCliRunner, self).invoke(*args, **kwargs))


@dataclass
class _Made:
    """An application made for one backend and one set of extra settings, kept for the run."""

    app: Flask
    config: dict[str, Any]
    sqlite_file: Path | None


def _made(backend: Backend, app_config: dict[str, object]) -> _Made:
    # Making an application costs more than most tests (werkzeug compiles every URL
    # rule anew), so one is made per backend and settings and handed to each test
    # with its settings restored, a storage folder of its own and an empty database.
    key = repr(sorted(app_config.items()))
    if key not in backend.apps:
        url = backend.new_database() if backend.name == "sqlite" else backend.shared_database()
        application = create_app(_config(url, backend.workdir, **app_config))
        application.test_client_class = IsolatedClient
        application.test_cli_runner_class = IsolatedCliRunner
        application.jinja_env.bytecode_cache = COMPILED_TEMPLATES
        _keep_owner(application, backend, url)
        path = make_url(url).database if backend.name == "sqlite" else None
        backend.apps[key] = _Made(application, dict(application.config),
                                  Path(path) if path else None)
    return backend.apps[key]


@pytest.fixture
def app(backend: Backend, tmp_path: Path, app_config: dict[str, object]) -> Iterator[Flask]:
    """The application, outside any context (see the module's docstring), over an empty
    database and a storage folder of this test's own."""
    made = _made(backend, app_config)
    application = made.app
    application.config.clear()
    application.config.update(made.config, STORAGE_DIR=str(tmp_path / "storage"))
    application.extensions.pop("auditflow.file_store", None)
    for limiter in application.extensions.get("limiter", ()):
        limiter.reset()  # the counts of an earlier test's requests (memory storage)
    memo.forget()  # answers kept over an earlier test's database
    yield application
    with application.app_context():
        db.session.remove()
        if made.sqlite_file is None:
            with owner_engine().begin() as connection:
                connection.exec_driver_sql(_emptying_statement(connection))
        else:
            db.engine.dispose()  # its file is about to be replaced
    # PostgreSQL keeps its pool from test to test, as a server's process does from request
    # to request: a new connection is a new server process (some 10 ms), and the pool pings
    # one unused for a while (auditflow.db.ping_after_idle), so it hands out none that has gone.
    if made.sqlite_file is not None:
        for leftover in (Path(f"{made.sqlite_file}-wal"), Path(f"{made.sqlite_file}-shm")):
            leftover.unlink(missing_ok=True)
        shutil.copy(backend.sqlite_template(), made.sqlite_file)


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback (aiosmtpd) for a module's tests; ``settings()`` points
    the application at it."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_app(backend: Backend, tmp_path: Path, app_config: dict[str, object]) -> Iterator[Flask]:
    """An application made for this test alone: for a test that changes the application
    itself (registers a route), which the shared ``app`` must not carry into other tests."""
    url = backend.new_database() if backend.name == "sqlite" else backend.shared_database()
    application = create_app(_config(url, tmp_path, **app_config))
    application.test_client_class = IsolatedClient
    memo.forget()
    _keep_owner(application, backend, url)
    yield application
    with application.app_context():
        db.session.remove()
        if backend.name == "postgresql":
            with owner_engine().begin() as connection:
                connection.exec_driver_sql(_emptying_statement(connection))
            owner_engine().dispose()
        db.engine.dispose()


def _keep_owner(application: Flask, backend: Backend, url: str) -> None:
    engine = backend.owner_engine(url)
    if engine is not None:
        application.extensions["tests.owner_engine"] = engine


def owner_engine() -> Engine:
    """The current application's engine, or its tables' owner's when it runs as another role
    (``AUDITFLOW_TEST_APP_ROLE``): for what only the owner may do (emptying, snapshots,
    tampering in the tests)."""
    engine = current_app.extensions.get("tests.owner_engine")
    return engine if engine is not None else db.engine


_EMPTYING: list[str] = []


def _emptying_statement(connection: Any) -> str:
    """Empty every table and restart every id, as a fresh database would be.

    Faster than TRUNCATE for the few rows a test leaves. The replica role switches the
    tables' triggers off for this transaction only, the append-only ones included
    (the test database's owner is a superuser). Each id sequence is set back to its
    start, not yet called, as ``ALTER SEQUENCE ... RESTART`` would (which gives every
    sequence a new file: some 14 ms a test for the 22 of them, against 1 ms for ``setval``).
    """
    if not _EMPTYING:
        sequences = connection.exec_driver_sql(
            "SELECT sequencename, start_value FROM pg_sequences WHERE schemaname = current_schema()"
        ).all()
        _EMPTYING.append("; ".join([
            "SET LOCAL session_replication_role = replica",
            *(f'DELETE FROM "{table.name}"' for table in reversed(db.metadata.sorted_tables)),
            *(f"SELECT setval('\"{name}\"', {start}, false)" for name, start in sequences),
        ]))
    return _EMPTYING[0]


@pytest.fixture
def app_context(app: Flask) -> Iterator[Flask]:
    """An application context for the test's own reads and writes (its own session)."""
    with app.app_context():
        yield app
        db.session.rollback()
        db.session.remove()


_RENDERED: dict[tuple[str, str], bytes] = {}


def rendered(fmt: str, report: Any) -> bytes:
    """``report`` written in ``fmt`` by its real writer, once per worker for the same report.

    A writer is a pure function of the report (``reports.content.Report``): the same
    report, whichever database it was built on, gives the same file. Tests about what a
    file says read it from here; tests about determinism call the writers themselves.
    """
    from auditflow.reports import writer

    key = (fmt, repr(report))
    if key not in _RENDERED:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"report.{fmt}"
            writer(fmt)(report, path)
            _RENDERED[key] = path.read_bytes()
    return _RENDERED[key]


@pytest.fixture
def render_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests about numbering, immutability, names or access rather than the files'
    content: issuing and downloads get each format of the same report from ``rendered``."""
    from auditflow.reports import writer as real_writer
    from auditflow.reports.content import Report
    from auditflow.services import issuing
    from auditflow.web.summary import routes as summary_routes

    def writer(fmt: str) -> Any:
        real_writer(fmt)  # unknown or unavailable formats are refused as usual

        def cached(report: Report, path: Path, progress: Any = None) -> None:
            if progress is not None:
                progress(0, len(report.items))
            Path(path).write_bytes(rendered(fmt, report))
            if progress is not None:
                progress(len(report.items), len(report.items))

        return cached

    monkeypatch.setattr(issuing, "writer", writer)
    monkeypatch.setattr(summary_routes, "writer", writer)


@pytest.fixture
def seeded(app_context: Flask, backend: Backend) -> Any:
    """The organisation, demo users and the 2025 audit of the work report, loaded and committed.

    The seed is loaded through the workflow once per backend and worker; later tests get
    a copy of the rows it wrote (``DatabaseSnapshot``), which is what loading gives every time.
    """
    from auditflow.services.seeding import load

    snapshot = backend.snapshots.get("seed")
    if snapshot is not None:
        snapshot.restore()
        return copy.deepcopy(snapshot.payload)
    result = load(REPO / "seed", demo=True, demo_password=DEMO_PASSWORD)
    db.session.commit()
    DatabaseSnapshot.take(backend, "seed", copy.deepcopy(result))
    return result


class DatabaseSnapshot:
    """The rows a test setup wrote, kept to be put back into an empty database later,
    with what the setup returned (``payload``: ids, results), for a fixture that many
    tests share and that costs more to make than to copy.

    SQLite: a copy of the database file. PostgreSQL: a copy of every table in a schema
    of its own, put back with the tables' triggers off (the append-only ones included),
    and the id sequences where the setup left them. The files of the storage folder
    (evidence, issued reports) are copied along.
    """

    def __init__(self, backend: Backend, name: str, payload: Any) -> None:
        self.backend = backend
        self.payload = payload
        self.schema = f"snapshot_{name}"
        self.file = backend.workdir / f"snapshot-{name}.db"
        self.storage = backend.workdir / f"snapshot-{name}-storage"
        self.restore_sql = ""

    @classmethod
    def take(cls, backend: Backend, name: str, payload: Any) -> DatabaseSnapshot:
        """Keep what the database holds now (committed) under ``name``."""
        snapshot = backend.snapshots[name] = cls(backend, name, payload)
        db.session.remove()
        storage = Path(current_app.config["STORAGE_DIR"])
        if storage.is_dir():
            shutil.copytree(storage, snapshot.storage, dirs_exist_ok=True)
        if backend.name == "sqlite":
            with db.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            db.engine.dispose()
            shutil.copy(_sqlite_file(), snapshot.file)
            return snapshot
        tables = [table.name for table in db.metadata.sorted_tables]
        schema = snapshot.schema
        with owner_engine().begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            for table in tables:
                connection.exec_driver_sql(f'CREATE TABLE "{schema}"."{table}" AS TABLE "{table}"')
            sequences = connection.exec_driver_sql(
                "SELECT sequencename, last_value FROM pg_sequences "
                "WHERE schemaname = current_schema() AND last_value IS NOT NULL").all()
        snapshot.restore_sql = "; ".join([
            "SET LOCAL session_replication_role = replica",
            *(f'INSERT INTO "{table}" SELECT * FROM "{schema}"."{table}"' for table in tables),
            *(f"SELECT setval('\"{sequence}\"', {value})" for sequence, value in sequences),
        ])
        return snapshot

    def restore(self) -> None:
        """Put the rows back, in place of whatever the database holds (an empty one as a
        rule: a test that restores a second snapshot has its rows replaced)."""
        db.session.remove()
        if self.storage.is_dir():
            shutil.copytree(self.storage, current_app.config["STORAGE_DIR"], dirs_exist_ok=True)
        if self.backend.name == "sqlite":
            db.engine.dispose()
            target = _sqlite_file()
            for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
                leftover.unlink(missing_ok=True)
            shutil.copy(self.file, target)
            return
        with owner_engine().begin() as connection:
            connection.exec_driver_sql(f"{_emptying_statement(connection)}; {self.restore_sql}")


def _sqlite_file() -> Path:
    return Path(str(db.engine.url.database))


@pytest.fixture
def make(app_context):
    from tests.factories import Factory

    return Factory()


# Texts that start like a formula, as people could type them (the services strip some of it).
HOSTILE = ["=HYPERLINK(\"http://example.org\",\"열기\")", "+1+2", "-3+4", "@SUM(1,2)",
           "\t=1+1", "\r=1+1"]


@pytest.fixture
def hostile_report(make):
    """A report whose every text starts like a formula (the team is "=팀"); after them one
    item whose 추진내용 is an outline that starts with "- " and one with "- " lines inside."""
    from auditflow.reports.content import build_report
    from auditflow.services import recommendations as ops

    audit = make.audit(2025)
    team = make.team(name="=팀")
    worker = make.user("department", team=team)
    for number, typed in enumerate(HOSTILE, start=1):
        rec = make.recommendation(audit=audit, number=number, state="in_progress", text=typed,
                                  lead=team)
        ops.edit_result(rec, worker, action_details=typed, future_plan=typed)
    for number, details in ((len(HOSTILE) + 1, OUTLINE_WITH_DASH_FIRST),
                            (len(HOSTILE) + 2, OUTLINE_WITH_DASH_INSIDE)):
        rec = make.recommendation(audit=audit, number=number, state="in_progress", lead=team)
        ops.edit_result(rec, worker, action_details=details, future_plan=None)
    db.session.commit()
    return build_report(audit)


OUTLINE_WITH_DASH_FIRST = "- 첫째 줄\n  - 둘째 줄"
OUTLINE_WITH_DASH_INSIDE = "ㅇ 첫째 줄\n- 둘째 줄\n  - 셋째 줄"
