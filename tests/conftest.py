"""Fixtures: a fresh database per test, on SQLite and (when configured) on PostgreSQL.

Set ``AUDITFLOW_TEST_DATABASE_URL`` to a PostgreSQL server database (e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``) and every test that uses
a database runs a second time there, in a database of its own made for this
run and dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from auditflow import create_app
from auditflow.extensions import db

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
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


def _forget_request_caches() -> None:
    """Each real request has an application context of its own; a test holds one
    across its requests, so Flask-Login's user and Flask-WTF's CSRF token, cached
    on ``g``, would leak from one request (and one client) into the next."""
    from flask import current_app, g

    for name in ("_login_user", current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"),
                 "csrf_valid"):
        g.pop(name, None)


@pytest.fixture
def app(backend: Backend, tmp_path: Path, app_config: dict[str, object]):
    url = backend.new_database() if backend.name == "sqlite" else backend.shared_database()
    application = create_app(_config(url, tmp_path, **app_config))
    application.before_request_funcs.setdefault(None, []).insert(0, _forget_request_caches)
    with application.app_context():
        yield application
        db.session.rollback()
        db.session.remove()
        if backend.name == "postgresql":
            tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
            with db.engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def seeded(app):
    """The organisation, demo users and the 2025 audit of the work report, loaded and committed."""
    from auditflow.services.seeding import load

    result = load(REPO / "seed", demo_password=DEMO_PASSWORD)
    db.session.commit()
    return result


@pytest.fixture
def make(app):
    from tests.factories import Factory

    return Factory()
