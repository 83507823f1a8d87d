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

The work report and the real evidence samples live in ``../shared`` (or
``AUDITFLOW_SHARED_DIR``), not in the repository; tests that need them ask
``shared`` and are skipped with one reason when it is absent, except under
``CI=true``, where its absence fails them.
"""

from __future__ import annotations

import contextvars
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, make_url, text

from auditflow import create_app
from auditflow.extensions import db

REPO = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("AUDITFLOW_SHARED_DIR") or REPO.parent / "shared")
SHARED_MISSING = (
    f"needs the shared material (the work report and the evidence samples) in {SHARED_DIR}: "
    "put the shared/ folder beside the checkout, or set AUDITFLOW_SHARED_DIR to it"
)
PG_URL = os.environ.get("AUDITFLOW_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
DEMO_PASSWORD = "Demo-pass-2025!"


def pytest_report_header(config: pytest.Config) -> str:
    if PG_URL:
        return f"databases: SQLite and PostgreSQL ({make_url(PG_URL).render_as_string()})"
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

    # SQLite: a schema built once, copied per test.
    def _sqlite_template(self) -> Path:
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
                shutil.copy(self._sqlite_template(), path)
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
                db.session.remove()
                db.engine.dispose()
        return url

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


def _config(url: str, workdir: Path, **extra: object) -> dict[str, object]:
    return {
        "AUDITFLOW_ENV": "testing",
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "STORAGE_DIR": str(workdir / "storage"),
        "DEMO_PASSWORD": DEMO_PASSWORD,
        **extra,
    }


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    server = Backend(request.param, tmp_path_factory.mktemp(request.param))
    yield server
    server.close()


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


class IsolatedClient(FlaskClient):
    def open(self, *args: Any, **kwargs: Any) -> Any:
        return _isolated(lambda: super(IsolatedClient, self).open(*args, **kwargs))


class IsolatedCliRunner(FlaskCliRunner):
    def invoke(self, *args: Any, **kwargs: Any) -> Any:
        return _isolated(lambda: super(IsolatedCliRunner, self).invoke(*args, **kwargs))


@pytest.fixture
def app(backend: Backend, tmp_path: Path, app_config: dict[str, object]) -> Iterator[Flask]:
    """The application, outside any context (see the module's docstring)."""
    url = backend.new_database() if backend.name == "sqlite" else backend.shared_database()
    application = create_app(_config(url, tmp_path, **app_config))
    application.test_client_class = IsolatedClient
    application.test_cli_runner_class = IsolatedCliRunner
    yield application
    with application.app_context():
        db.session.remove()
        if backend.name == "postgresql":
            tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
            with db.engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def app_context(app: Flask) -> Iterator[Flask]:
    """An application context for the test's own reads and writes (its own session)."""
    with app.app_context():
        yield app
        db.session.rollback()
        db.session.remove()


@pytest.fixture
def seeded(app_context):
    """The organisation, demo users and the 2025 audit of the work report, loaded and committed."""
    from auditflow.services.seeding import load

    result = load(REPO / "seed", demo_password=DEMO_PASSWORD)
    db.session.commit()
    return result


@pytest.fixture
def make(app_context):
    from tests.factories import Factory

    return Factory()
