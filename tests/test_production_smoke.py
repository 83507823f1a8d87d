"""`make prod` for real: gunicorn and the worker on a fresh PostgreSQL database and Redis,
driven over HTTP as a person would: ready, sign in, a page, a post whose job the worker
makes, the file downloaded, the request's id on the worker's log line, a clean stop.

It needs PostgreSQL (``AUDITFLOW_TEST_DATABASE_URL``), Redis at 127.0.0.1:6379 and gunicorn;
without them it is skipped with the reason, except under ``CI=true``, where it fails.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, make_url, text

from tests.auth_helpers import find_csrf_token
from tests.conftest import PG_URL, REPO
from tests.mail_helpers import free_port
from tests.test_notifications import redis_answers

REDIS = "redis://127.0.0.1:6379/13"  # a database of its own: no other test's queue
PASSWORD = "Smoke-test-pass-2026!"


def _missing() -> str | None:
    # PostgreSQL is there: without AUDITFLOW_TEST_DATABASE_URL this module is not collected
    # (tests/conftest.py).
    if not redis_answers():
        return "needs Redis at 127.0.0.1:6379: start redis-server"
    if not (REPO / ".venv" / "bin" / "gunicorn").exists() or not shutil.which("make"):
        return "needs make and gunicorn in .venv (make install)"
    return None


@pytest.fixture
def database() -> Iterator[str]:
    reason = _missing()
    if reason:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI=true but the production smoke test {reason}")
        pytest.skip(reason)
    admin_url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    name = f"auditflow_prod_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(REPO / ".venv" / "bin" / "flask"), "--app", "auditflow", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _wait_ready(base: str, process: subprocess.Popen[str], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "make prod stopped before it was ready"
        try:
            answer = requests.get(f"{base}/readyz", timeout=2)
            if answer.status_code == 200:
                body: dict[str, Any] = answer.json()
                return body
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise AssertionError("make prod was not ready in time")


def test_make_prod_serves_the_product_with_the_worker(database, tmp_path):
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AUDITFLOW_", "MAKEFLAGS", "MFLAGS", "PYTEST_"))}
    env.update({
        "AUDITFLOW_SECRET_KEY": secrets.token_hex(32),
        "AUDITFLOW_DATABASE_URL": database,
        "AUDITFLOW_QUEUE_URL": REDIS,
        "AUDITFLOW_STORAGE_DIR": str(tmp_path / "storage"),
        "AUDITFLOW_ENV": "production",
        # The one setting that makes the seed's 12 items "a large report": the CSV is made by
        # the worker. The smoke test's user needs no second factor.
        "AUDITFLOW_DIRECT_DOWNLOAD_MAX_ITEMS": "csv=1",
        "AUDITFLOW_REQUIRE_SECOND_FACTOR": "false",
        "AUDITFLOW_WEB_WORKERS": "2", "AUDITFLOW_WEB_THREADS": "4",
        "AUDITFLOW_METRICS_TOKEN": "smoke-metrics-token",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    })
    log_path = tmp_path / "prod.log"
    with log_path.open("w") as log_file:  # it migrates the fresh database itself
        process = subprocess.Popen(
            ["make", "-s", "--no-print-directory", "prod", f"PORT={port}", "HOST=127.0.0.1"],
            cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        ready = _wait_ready(base, process)
        assert ready == {"status": "ok", "checks": {
            "database": "ok", "migrations": "ok", "storage": "ok", "queue": "ok"}}
        _flask(env, "seed")  # the organisation and the council's audits, no demo users
        _flask({**env, "AUDITFLOW_NEW_USER_PASSWORD": PASSWORD}, "user", "create",
               "--login", "smoke-liaison", "--name", "점검 담당관", "--role", "liaison")
        engine = create_engine(database)
        with engine.connect() as connection:
            audit_id = connection.execute(text("SELECT min(id) FROM audit")).scalar()
        engine.dispose()

        browser = requests.Session()
        token = find_csrf_token(browser.get(f"{base}/login", timeout=10).text)
        signed_in = browser.post(f"{base}/login", timeout=30, allow_redirects=False, data={
            "login": "smoke-liaison", "password": PASSWORD, "csrf_token": token})
        assert signed_in.status_code == 303, signed_in.text[:500]
        summary = f"{base}/summary?audit={audit_id}&as_of=2026-01-31"
        page = browser.get(summary, timeout=30)
        assert page.status_code == 200 and "CSV 파일 만들기" in page.text

        posted = browser.post(f"{base}/summary/{audit_id}/downloads", timeout=30,
                              allow_redirects=False,
                              data={"fmt": "csv", "as_of": "2026-01-31", "due_changes": "1",
                                    "csrf_token": find_csrf_token(page.text)})
        assert posted.status_code == 303, posted.text[:500]
        job_id = int(re.search(r"job=(\d+)", posted.headers["Location"]).group(1))
        request_id = posted.headers["X-Request-ID"]
        deadline = time.monotonic() + 30
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            status = browser.get(f"{base}/summary/jobs/{job_id}/status", timeout=10).json()
            if status["finished"]:
                break
            time.sleep(0.3)
        assert status.get("state") == "done", status
        made = browser.get(f"{base}/summary/jobs/{job_id}/file", timeout=30)
        assert made.status_code == 200 and "csv" in made.headers["Content-Type"]

        metrics = requests.get(f"{base}/metrics", timeout=10,
                               headers={"Authorization": "Bearer smoke-metrics-token"}).text
        assert re.search(r'auditflow_http_requests_total\{endpoint="summary.request_download",'
                         r'method="POST",status="303"\} 1\.0', metrics), metrics[:2000]
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # make, honcho, gunicorn and the worker
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    lines = [json.loads(line.split("| ", 1)[1]) for line in _log_lines(log_path)]
    mine = [line for line in lines if line.get("request_id") == request_id]
    assert {(line["logger"], line.get("endpoint") or line.get("job")) for line in mine} >= {
        ("auditflow.requests", "summary.request_download"), ("auditflow.jobs", "make_report")}
    web_line = next(line for line in mine if line["logger"] == "auditflow.requests")
    assert web_line["method"] == "POST" and web_line["status"] == 303
    assert isinstance(web_line["user_id"], int) and web_line["duration_ms"] >= 0
    assert PASSWORD not in log_path.read_text()


def _log_lines(path: Path) -> list[str]:
    """honcho's lines ("HH:MM:SS web.1 | {...}") that carry a JSON object."""
    return [line for line in path.read_text().splitlines()
            if "| {" in line and line.rstrip().endswith("}")]
