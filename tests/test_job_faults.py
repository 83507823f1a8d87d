"""A worker killed (SIGKILL) in the middle of a job: the job is taken again and done once,
never left half-done. The worker is a forked process that kills itself mid-way."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from auditflow.extensions import db
from auditflow.jobs import deliver, deliver_inline
from auditflow.models import Audit, EmailMessage, ReportJob, User, utcnow
from auditflow.reports import FORMATS
from auditflow.services import issuing, mail, notifications, report_jobs
from auditflow.services import recommendations as ops
from auditflow.vocabulary import Delivery
from tests.conftest import rendered
from tests.job_helpers import editions, job, kept_files, run_queued_jobs
from tests.mail_helpers import SmtpServer

REFERENCE = date(2026, 1, 31)


@pytest.fixture
def app_config(smtp: SmtpServer) -> dict[str, object]:
    return smtp.settings(REPORT_JOB_HEARTBEAT_SECONDS=0.2, REPORT_JOB_STALE_SECONDS=1,
                         MAIL_MAX_ATTEMPTS=4, BASE_URL="https://audit.example")


def killed_worker(app, work: Callable[[], Any]) -> None:
    """Run ``work`` in a forked worker process, which is to kill itself (SIGKILL) mid-way."""
    db.session.commit()
    pid = os.fork()
    if pid == 0:  # the worker: no cleanup of any kind runs, as with kill -9
        try:
            with app.app_context():
                db.engine.dispose(close=False)  # the parent's connections stay the parent's
                work()
        finally:
            os._exit(3)  # work was to be killed before it ended
    _pid, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
    db.session.expire_all()


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_worker_killed_while_issuing_leaves_the_job_to_be_done_once(app, seeded, monkeypatch):
    audit = db.session.scalar(select(Audit).filter_by(year=2025))
    auditor = db.session.scalar(select(User).filter_by(login="audit"))
    started = report_jobs.start_issue(audit, REFERENCE, auditor)
    db.session.commit()
    job_id = started.job.id
    queue = app.extensions["auditflow.jobs"]
    queue.huey.flush()

    def worker() -> None:
        written: list[str] = []

        def writer(fmt: str) -> Any:
            def write(report: Any, path: Path, progress: Any = None) -> None:
                if written:  # the first format's file is written; the worker dies in the next
                    die()
                Path(path).write_bytes(rendered(fmt, report))
                written.append(fmt)
            return write

        issuing.writer = writer  # type: ignore[assignment]
        report_jobs.writer = writer  # type: ignore[attr-defined]
        queue.make_report.call_local(job_id)

    killed_worker(app, worker)
    dead = job(job_id)
    assert dead.state == "running"  # its worker is gone mid-way
    assert editions() == (0, 0) and kept_files(app) == []  # nothing of it kept
    # Its heartbeat stops; the sweep takes it again and the next worker makes it whole.
    db.session.execute(update(ReportJob).where(ReportJob.id == job_id).values(
        heartbeat_at=utcnow() - timedelta(seconds=5)))
    db.session.commit()
    queue.sweep_report_jobs.call_local()
    assert run_queued_jobs(app) == ["done"]
    done = job(job_id)
    assert (done.state, done.attempts) == ("done", 2)
    assert editions() == (1, len(FORMATS))
    assert app.test_cli_runner().invoke(args=["integrity", "verify"]).exit_code == 0
    queue.huey.flush()


def test_a_worker_killed_while_sending_leaves_the_message_to_be_sent_once(
        app, make, smtp, monkeypatch):
    lead = make.team("주관팀")
    auditor = make.user("audit", email="auditor@seoul-ai.example")
    make.user("department", team=lead, email="lead@seoul-ai.example")
    with notifications.quiet():
        rec = make.recommendation(lead=lead, state="reviewing")
    db.session.commit()
    deliver_inline(db.session())  # queued by nobody: the test is the worker
    ops.fire(rec, "approve", auditor, reason="증빙 불필요")
    db.session.commit()
    message = db.session.scalar(select(EmailMessage).filter_by(to_address="lead@seoul-ai.example"))
    smtp.clear()

    def worker() -> None:
        mail.send = lambda *_args, **_kwargs: die()  # killed as it opens the connection
        deliver(message.id)

    killed_worker(app, worker)
    found = db.session.get(EmailMessage, message.id)
    assert found.status == Delivery.SENDING.value and smtp.to("lead@seoul-ai.example") == []
    assert deliver(message.id) == "skipped"  # claimed by the dead worker: nobody sends twice
    # After the claim has gone stale, the sweep gives it back; it is sent once.
    db.session.execute(update(EmailMessage).where(EmailMessage.id == message.id).values(
        claimed_at=utcnow() - mail.STALE_CLAIM - timedelta(seconds=1)))
    db.session.commit()
    assert mail.release_stale() == 1
    db.session.commit()
    assert deliver(message.id) == "sent"
    assert deliver(message.id) == "skipped"
    assert len(smtp.to("lead@seoul-ai.example")) == 1
