"""발행 by a real worker while the page shows it move, on the SQLite queue and, where it
answers, the Redis at 127.0.0.1:6379 (it does in CI; there its absence fails the tests),
each paired with a database as the notification tests are (tests/conftest.py, ``QUEUE_PAIRS``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from auditflow.extensions import db
from auditflow.models import Audit, IssuedReport
from auditflow.reports import FORMATS
from auditflow.storage.transactional import file_store
from tests.job_helpers import (
    client_for,
    editions,
    job,
    job_id_of,
    kept_files,
    make_writers_slow,
    post_issue,
)
from tests.mail_helpers import Worker, wait_for
from tests.test_notifications import REDIS_URL, redis_answers

FAST = {"REPORT_JOB_HEARTBEAT_SECONDS": 0.2, "REPORT_JOB_STALE_SECONDS": 1}


@pytest.fixture
def audit(seeded) -> Audit:
    found = db.session.scalar(select(Audit).filter_by(year=2025))
    assert found is not None
    return found


@pytest.fixture
def slow_writers(monkeypatch):
    return make_writers_slow(monkeypatch)


@pytest.fixture
def queue(request: pytest.FixtureRequest) -> str:
    """The queue kind, paired with the database (tests/conftest.py, ``QUEUE_PAIRS``)."""
    if request.param == "redis-queue" and not redis_answers():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI=true but Redis does not answer at {REDIS_URL}")
        pytest.skip(f"Redis does not answer at {REDIS_URL}: start redis-server to run these")
    return str(request.param)


@pytest.fixture
def worker(app) -> Iterator[Worker]:
    running = Worker(app)
    running.huey.flush()
    running.start()
    yield running
    running.stop()


# --- with a real worker, on both queues ---------------------------------------------------------


@pytest.fixture
def app_config(queue: str) -> dict[str, object]:
    config: dict[str, object] = dict(FAST)
    if queue == "redis-queue":
        config |= {"QUEUE_URL": REDIS_URL, "QUEUE_NAME": f"auditflow-jobs-test-{os.getpid()}",
                   "QUEUE_READ_TIMEOUT": 0.1}
    return config


def test_the_worker_issues_while_the_status_moves_format_by_format(
        app, audit, slow_writers, worker):
    slow_writers["pause"] = 0.04  # about half a second a format: several polls see each
    client = client_for(app, "liaison")
    job_id = job_id_of(post_issue(client, audit.id))
    seen: list[dict[str, Any]] = []

    def finished() -> bool:
        body = client.get(f"/summary/jobs/{job_id}/status").get_json()
        seen.append(body)
        return bool(body["finished"])

    wait_for(finished, timeout=30, what="the edition made by the worker")
    last = seen[-1]
    assert last["state"] == "done", last
    assert last["value"] == last["max"] == len(FORMATS) * 12 and last["percent"] == 100
    assert last["text"] == "제1판을 발행했습니다 ('26.1.31. 기준, 파일 5개)."
    assert [step["state"] for step in last["steps"]] == ["done"] * len(FORMATS)
    # It moved: several values on the way up, never back, format after format, with
    # the items of the one at work.
    values = [body["value"] for body in seen]
    assert values == sorted(values) and len(set(values)) >= 4, values
    working = [step for body in seen for step in body["steps"] if step["state"] == "working"]
    assert {step["format"] for step in working} >= {"pdf", "xlsx"}, working
    assert any(0 < step["done"] < step["total"] for step in working), working
    assert any("5개 형식 중" in body["text"] and "만드는 중" in body["text"] for body in seen)
    # The files are in the answer the page puts in, and the edition is kept.
    assert editions() == (1, len(FORMATS))
    issued = db.session.scalar(select(IssuedReport))
    for row in issued.files:
        assert f"/summary/{audit.id}/issued/{issued.id}/{row.format}" in last["result_html"]
        assert row.sha256 in last["issued_html"]
    assert job(job_id).issued_report_id == issued.id


def test_a_second_click_joins_the_job_under_way(app, audit, slow_writers, worker):
    slow_writers["pause"] = 0.05
    liaison, auditor = client_for(app, "liaison"), client_for(app, "audit")
    first = post_issue(liaison, audit.id)
    again = post_issue(liaison, audit.id)
    other = post_issue(auditor, audit.id)
    assert job_id_of(first) == job_id_of(again) == job_id_of(other)
    text = liaison.get(again.location).get_data(as_text=True)
    assert "발행이 이미 진행 중이어서 그 작업의 진행 상황을 보여 드립니다" in text
    job_id = job_id_of(first)
    wait_for(lambda: job(job_id).state == "done", timeout=30, what="the joined edition")
    assert editions() == (1, len(FORMATS))  # one edition, however many clicked
    slow_writers["pause"] = 0
    # Another day is another edition, and so is the same day once the first is done.
    other_day = job_id_of(post_issue(liaison, audit.id, "2026-01-30"))
    later = job_id_of(post_issue(liaison, audit.id))
    assert len({job_id, other_day, later}) == 3
    wait_for(lambda: job(other_day).state == job(later).state == "done", timeout=30,
             what="the next editions")
    numbers = db.session.scalars(select(IssuedReport.number).order_by(IssuedReport.id)).all()
    assert sorted(numbers) == [1, 2, 3]


def test_a_failed_job_says_why_and_leaves_no_edition(app, audit, slow_writers, worker):
    slow_writers["fail_in"] = "xlsx"
    client = client_for(app, "liaison")
    job_id = job_id_of(post_issue(client, audit.id))
    wait_for(lambda: job(job_id).state == "failed", timeout=30, what="the failure")
    found = job(job_id)
    assert found.error == ("엑셀(XLSX) 파일을 만들다가 오류가 나서 발행하지 않았습니다. 다시 발행하세요. "
                           "되풀이되면 관리자에게 알려 주세요. (오류: RuntimeError)")
    assert found.issued_report_id is None and found.finished_at is not None
    assert editions() == (0, 0)
    assert kept_files(app) == []  # the PDF and HWPX already made went with the rollback
    assert list(file_store().tmp_dir.iterdir()) == []
    body = client.get(f"/summary/jobs/{job_id}/status").get_json()
    assert body["finished"] and body["state"] == "failed"
    assert body["text"].startswith("'26.1.31. 기준 보고서 발행: 실패했습니다. 엑셀(XLSX) 파일을")
    page = client.get(f"/summary?audit={audit.id}&as_of=2026-01-31&job={job_id}")
    assert "엑셀(XLSX) 파일을 만들다가 오류가 나서 발행하지 않았습니다" in page.get_data(as_text=True)
    # The day is free again: the next click is a new job.
    slow_writers["fail_in"] = None
    assert job_id_of(post_issue(client, audit.id)) != job_id


