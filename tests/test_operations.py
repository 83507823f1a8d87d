"""Production operation: /healthz and /readyz, /metrics behind its token or addresses, one
JSON line per request and per job with the request id (shown on error pages), nothing
secret in any log line, and what production refuses to start with."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import text

from auditflow import create_app
from auditflow.cli.production import refusals
from auditflow.config import ConfigError, finalise, from_environment
from auditflow.extensions import db
from auditflow.jobs import Jobs
from auditflow.logs import json_formatter
from auditflow.services import tokens
from tests.auth_helpers import csrf_token, login
from tests.conftest import APP_ROLE, REPO, owner_engine
from tests.factories import PASSWORD
from tests.test_storage import make_pdf

CHECKS = ("database", "migrations", "storage", "queue")


def _signed_in(app, user):
    client = app.test_client()
    assert login(client, user.login, PASSWORD).status_code == 303
    return client


def _at_head(app) -> None:
    """The test database is made from the models; record the migrations' heads in it, as
    ``flask db upgrade`` would (as the tables' owner, readable by the application's role)."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(REPO / "migrations"))
    heads = ScriptDirectory.from_config(config).get_heads()
    with app.app_context(), owner_engine().begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version "
                                "(version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        for head in heads:
            connection.execute(text("INSERT INTO alembic_version VALUES (:head)"), {"head": head})
        if APP_ROLE and connection.dialect.name == "postgresql":
            connection.execute(text(f'GRANT SELECT ON alembic_version TO "{APP_ROLE}"'))


def _off_head(app) -> None:
    with app.app_context(), owner_engine().begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


# ─── health ──────────────────────────────────────────────────────────────────


def test_healthz_answers_without_sign_in_and_sets_no_cookie(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_names_each_dependency_and_nothing_else(app):
    _at_head(app)
    try:
        response = app.test_client().get("/readyz")
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json() == {"status": "ok", "checks": dict.fromkeys(CHECKS, "ok")}
        assert "Set-Cookie" not in response.headers
    finally:
        _off_head(app)
    behind = app.test_client().get("/readyz")
    assert behind.status_code == 503
    assert behind.get_json() == {"status": "fail", "checks": {
        "database": "ok", "migrations": "fail", "storage": "ok", "queue": "ok"}}


def test_readyz_fails_storage_and_queue_without_saying_why(app, tmp_path):
    _at_head(app)
    not_a_folder = tmp_path / "file"
    not_a_folder.write_bytes(b"x")
    saved = app.extensions["auditflow.jobs"]
    app.config["STORAGE_DIR"] = str(not_a_folder)
    app.config["QUEUE_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    app.extensions["auditflow.jobs"] = Jobs(app)
    try:
        response = app.test_client().get("/readyz")
    finally:
        app.extensions["auditflow.jobs"] = saved
        _off_head(app)
    assert response.status_code == 503
    body = response.get_json()
    assert body == {"status": "fail", "checks": {
        "database": "ok", "migrations": "ok", "storage": "fail", "queue": "fail"}}
    assert "6379" not in response.get_data(as_text=True) and "redis" not in str(body)


# ─── metrics ─────────────────────────────────────────────────────────────────


def test_metrics_are_off_without_a_token_or_addresses(app):
    assert app.test_client().get("/metrics").status_code == 404


def test_metrics_need_the_token(app, make):
    app.config["METRICS_TOKEN"] = "scrape-secret-123"
    app.extensions["auditflow.jobs"].huey.flush()  # an empty queue: tasks earlier tests queued
    team = make.team("AI동행팀")
    for state in ("received", "received", "in_progress", "completed"):
        make.recommendation(lead=team, state=state)
    db.session.commit()
    client = app.test_client()
    client.get("/healthz")
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    response = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    assert 'auditflow_open_items{state="received"} 2.0' in body
    assert 'auditflow_open_items{state="in_progress"} 1.0' in body
    assert 'state="completed"' not in body  # closed items are not open
    assert re.search(r'auditflow_http_requests_total\{endpoint="operations.healthz",'
                     r'method="GET",status="200"\} [1-9]', body)
    assert "auditflow_http_request_duration_seconds_bucket" in body
    assert 'auditflow_jobs_failed{job="deliver_email"} 0.0' in body
    assert "auditflow_queue_length 0.0" in body
    assert "auditflow_sign_in_failures 0.0" in body


def test_metrics_count_failed_sign_ins_and_let_in_allowed_addresses(app, make):
    user = make.user("audit")
    db.session.commit()
    assert login(app.test_client(), user.login, "wrong-password-1!").status_code == 200
    app.config["METRICS_ALLOW"] = ["10.0.0.0/8"]
    assert app.test_client().get("/metrics").status_code == 403  # the client is 127.0.0.1
    app.config["METRICS_ALLOW"] = ["10.0.0.0/8", "127.0.0.1"]
    body = app.test_client().get("/metrics").get_data(as_text=True)
    assert "auditflow_sign_in_failures 1.0" in body


# ─── the request's line and its id ───────────────────────────────────────────


def _lines(caplog, logger: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger]


def test_one_line_per_request_with_its_id_user_and_duration(app, make, caplog):
    user = make.user("audit")
    db.session.commit()
    client = _signed_in(app, user)
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    response = client.get("/", headers={"X-Request-ID": "lb-1234abcd"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "lb-1234abcd"
    [line] = _lines(caplog, "auditflow.requests")
    assert (line.request_id, line.user_id, line.method, line.endpoint, line.status) == (
        "lb-1234abcd", user.id, "GET", "home.index", 200)
    assert line.duration_ms >= 0
    written = json.loads(json_formatter().format(line))
    assert {"time", "level", "logger", "message", "request_id", "user_id", "method", "endpoint",
            "status", "duration_ms"} <= set(written)

    caplog.clear()
    odd = client.get("/", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["X-Request-ID"])
    [line] = _lines(caplog, "auditflow.requests")
    assert line.request_id == odd.headers["X-Request-ID"]


def test_the_error_page_shows_the_request_id(app, make):
    user = make.user("audit")
    db.session.commit()
    response = _signed_in(app, user).get("/recommendations/999999")
    assert response.status_code == 404
    request_id = response.headers["X-Request-ID"]
    assert f"요청 번호: <code>{request_id}</code>" in response.get_data(as_text=True)
    # The API's problem details carry it too.
    problem = app.test_client().get("/api/v1/recommendations")
    assert problem.status_code == 401
    assert problem.get_json()["request_id"] == problem.headers["X-Request-ID"]


def test_a_job_carries_the_request_id_that_queued_it(app, make, caplog):
    from auditflow.logs import bind_request_id, unbind_request_id

    queue = app.extensions["auditflow.jobs"]
    queued: list[tuple] = []
    queue.deliver_email  # noqa: B018 — builds the queue and its tasks
    real = queue.__dict__["deliver_email"]
    queue.__dict__["deliver_email"] = lambda *args, **kwargs: queued.append((args, kwargs))
    token = bind_request_id("req-queued-0001")
    try:
        queue.enqueue([41])
    finally:
        unbind_request_id(token)
        queue.__dict__["deliver_email"] = real
    assert queued == [((41,), {"request_id": "req-queued-0001"})]

    caplog.set_level(logging.INFO)
    assert real.call_local(999999, request_id="req-queued-0001") == "skipped"  # no such row
    [line] = [r for r in _lines(caplog, "auditflow.jobs") if r.getMessage() == "job"]
    assert (line.request_id, line.job, line.ids, line.outcome) == (
        "req-queued-0001", "deliver", [999999], "skipped")


def test_no_password_token_or_file_content_in_any_log_line(app, make, caplog):
    team = make.team("AI동행팀")
    recommendation = make.recommendation(lead=team, state="in_progress")
    user = make.user("department", team=team)
    db.session.commit()
    secret = tokens.create(user, name="테스트", scope="write").secret
    db.session.commit()
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    assert login(client, user.login, "Not-the-password-77!").status_code == 200  # refused
    assert login(client, user.login, PASSWORD).status_code == 303
    marker = b"FILE-CONTENT-MARKER-8a7f"
    body = make_pdf() + b"%" + marker + b"\n"  # a comment after the end: still a PDF
    upload = client.post(
        f"/recommendations/{recommendation.id}/evidence",
        data={"files": [(io.BytesIO(body), "결과.pdf")],
              "csrf_token": csrf_token(client, f"/recommendations/{recommendation.id}")},
        content_type="multipart/form-data")
    assert upload.status_code in (200, 303), upload.get_data(as_text=True)[:500]
    api = app.test_client().get("/api/v1/recommendations",
                                headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200
    assert app.test_client().get("/api/v1/recommendations", headers={
        "Authorization": "Bearer af_wrong_token_value_1234"}).status_code == 401
    formatter = json_formatter()
    written = "\n".join(formatter.format(record) for record in caplog.records)
    assert _lines(caplog, "auditflow.requests"), "the requests were logged"
    for forbidden in (PASSWORD, "Not-the-password-77!", secret, "af_wrong_token_value_1234",
                      marker.decode()):
        assert forbidden not in written


# ─── what production refuses ─────────────────────────────────────────────────


def _production(tmp_path, **extra):
    config = from_environment(str(tmp_path))
    config.update({"AUDITFLOW_ENV": "production", "SECRET_KEY": "s" * 64, **extra})
    return config


def test_production_refuses_sqlite_on_more_than_one_machine(tmp_path):
    with pytest.raises(ConfigError) as refused:
        finalise(_production(tmp_path, MACHINES=2), None)
    assert refused.value.code == "sqlite_many_machines"
    assert "SQLite" in str(refused.value)
    finalise(_production(tmp_path, MACHINES=2,
                         SQLALCHEMY_DATABASE_URI="postgresql+psycopg://db/auditflow"), None)
    finalise(_production(tmp_path, MACHINES=1), None)


def test_production_refuses_no_secret_key(tmp_path):
    with pytest.raises(ConfigError) as refused:
        finalise(_production(tmp_path, SECRET_KEY=None), None)
    assert refused.value.code == "secret_key_missing"


def test_production_refuses_demo_accounts(app, backend, tmp_path):
    url = str(app.config["SQLALCHEMY_DATABASE_URI"])
    production = create_app({"AUDITFLOW_ENV": "production", "SECRET_KEY": "s" * 64,
                             "SQLALCHEMY_DATABASE_URI": url,
                             "SQLALCHEMY_ENGINE_OPTIONS": app.config["SQLALCHEMY_ENGINE_OPTIONS"],
                             "STORAGE_DIR": str(tmp_path / "storage"),
                             "QUEUE_PATH": str(tmp_path / "queue.db")})
    assert refusals(production) == []
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed", "--demo"]).exit_code == 0
    [refusal] = refusals(production)
    assert refusal.code == "demo_accounts_present"
    assert "admin" in refusal.message
    result = production.test_cli_runner().invoke(args=["production", "check"])
    assert result.exit_code == 1
    assert "[demo_accounts_present]" in result.output
    with production.app_context():
        db.engine.dispose()


def _gunicorn_hooks() -> dict:
    import runpy

    return runpy.run_path(str(REPO / "deploy" / "gunicorn.conf.py"))


def test_gunicorn_refuses_to_start_with_demo_accounts_or_without_a_secret(
        app, backend, tmp_path, monkeypatch, capsys):
    on_starting = _gunicorn_hooks()["on_starting"]
    for name in [key for key in __import__("os").environ if key.startswith("AUDITFLOW_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AUDITFLOW_ENV", "production")
    monkeypatch.setenv("AUDITFLOW_DATABASE_URL", str(app.config["SQLALCHEMY_DATABASE_URI"]))
    monkeypatch.setenv("AUDITFLOW_STORAGE_DIR", str(tmp_path / "storage"))
    monkeypatch.setenv("AUDITFLOW_QUEUE_PATH", str(tmp_path / "queue.db"))
    with pytest.raises(SystemExit):
        on_starting(None)
    assert "오류 [secret_key_missing]" in capsys.readouterr().err

    monkeypatch.setenv("AUDITFLOW_SECRET_KEY", "s" * 64)
    on_starting(None)  # an empty database: nothing to refuse
    assert app.test_cli_runner().invoke(args=["seed", "--demo"]).exit_code == 0
    with pytest.raises(SystemExit):
        on_starting(None)
    assert "오류 [demo_accounts_present]" in capsys.readouterr().err


def test_configured_logs_are_one_json_object_a_line_with_the_request_id(capsys):
    from auditflow import logs

    before = {name: (logging.getLogger(name).propagate, logging.getLogger(name).level)
              for name in (*logs.LOGGERS, "transitions")}

    def mine(name: str) -> list[logging.Handler]:
        return [h for h in logging.getLogger(name).handlers if h.get_name() == "auditflow.logs"]

    try:
        logs.configure("json", "INFO")
        logs.configure("json", "INFO")  # once per process: no second handler
        assert len(mine("auditflow")) == 1 and len(mine("huey")) == 1
        # the workflow library's line per state change repeats the history: not logged
        assert not logging.getLogger("transitions.core").isEnabledFor(logging.INFO)
        assert logging.getLogger("transitions.core").isEnabledFor(logging.WARNING)
        token = logs.bind_request_id("req-configured-01")
        try:
            logging.getLogger("auditflow.jobs").info("job", extra={"job": "deliver", "ids": [7]})
            logging.getLogger("huey").info("executing")  # below its WARNING
            logging.getLogger("huey").warning("retrying")
        finally:
            logs.unbind_request_id(token)
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    finally:
        for name in before:
            logger = logging.getLogger(name)
            for handler in mine(name):
                logger.removeHandler(handler)
            logger.propagate, level = before[name]
            logger.setLevel(level)
    assert [(line["logger"], line["message"], line["request_id"]) for line in lines] == [
        ("auditflow.jobs", "job", "req-configured-01"), ("huey", "retrying", "req-configured-01")]
    assert lines[0]["job"] == "deliver" and lines[0]["ids"] == [7] and lines[0]["level"] == "INFO"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", lines[0]["time"])


def test_readyz_asks_the_object_store_too(app, s3_server):
    """With an object store the store itself must answer: its bucket here, then a closed port."""
    _at_head(app)
    saved = dict(app.config)
    try:
        app.config.update(s3_server.settings())
        app.extensions.pop("auditflow.file_store", None)
        assert app.test_client().get("/readyz").get_json()["checks"]["storage"] == "ok"
        app.config["S3_ENDPOINT_URL"] = "http://127.0.0.1:9"  # nothing listens on port 9
        app.extensions.pop("auditflow.file_store", None)
        response = app.test_client().get("/readyz")
        assert response.status_code == 503
        assert response.get_json()["checks"]["storage"] == "fail"
    finally:
        app.config.clear()
        app.config.update(saved)
        app.extensions.pop("auditflow.file_store", None)
        _off_head(app)
