"""Report jobs in tests: run what is queued here, as the worker would, or wait for a real one."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from flask import has_app_context
from sqlalchemy import func, select

from auditflow.extensions import db
from auditflow.models import IssuedReport, IssuedReportFile, ReportJob
from auditflow.reports import writer as real_writer
from auditflow.services import issuing, report_jobs
from auditflow.vocabulary import ReportJobState
from tests.auth_helpers import login, post_form
from tests.conftest import DEMO_PASSWORD, rendered


def queued_ids() -> list[int]:
    db.session.expire_all()
    return list(db.session.scalars(select(ReportJob.id).where(
        ReportJob.state == ReportJobState.QUEUED.value).order_by(ReportJob.id)))


def run_queued_jobs(app: Any) -> list[str]:
    """Make every queued report job, each in an application context of its own (the
    worker's task body, without its queue). Returns what came of each."""
    if has_app_context():
        db.session.commit()
    task = app.extensions["auditflow.jobs"].make_report
    outcomes = [task.call_local(job_id) for job_id in queued_ids()]
    if has_app_context():
        db.session.expire_all()
    return list(outcomes)


def job(job_id: int) -> ReportJob:
    db.session.expire_all()
    found = db.session.get(ReportJob, job_id)
    assert found is not None
    return found


def client_for(app, who: str):
    client = app.test_client()
    assert login(client, who, DEMO_PASSWORD).status_code == 303
    return client


def post_issue(client, audit_id: int, as_of: str = "2026-01-31"):
    return post_form(client, f"/summary/{audit_id}/issue", {"as_of": as_of, "confirm": "y"},
                     token_from=f"/summary?audit={audit_id}&as_of={as_of}")


def job_id_of(response) -> int:
    assert response.status_code == 303, response.status_code
    return int(response.location.split("job=")[1].split("#")[0])


def editions() -> tuple[int, int]:
    db.session.expire_all()
    return (db.session.scalar(select(func.count()).select_from(IssuedReport)),
            db.session.scalar(select(func.count()).select_from(IssuedReportFile)))


def kept_files(app) -> list[Path]:
    root = Path(app.config["STORAGE_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file() and p.parent.name != "tmp")


def make_writers_slow(monkeypatch: Any) -> dict[str, Any]:
    """Each format's file as ``rendered`` gives it, written item by item with a pause, so a
    poll can see the job move; ``fail_in`` makes one format fail after half its items."""
    settings: dict[str, Any] = {"pause": 0.02, "fail_in": None}

    def writer(fmt: str) -> Any:
        real_writer(fmt)

        def slow(report: Any, path: Path, progress: Any = None) -> None:
            total = len(report.items)
            for done in range(total + 1):
                if progress is not None:
                    progress(done, total)
                if settings["fail_in"] == fmt and done == total // 2:
                    raise RuntimeError("disk full")
                time.sleep(settings["pause"])
            Path(path).write_bytes(rendered(fmt, report))

        return slow

    monkeypatch.setattr(issuing, "writer", writer)
    monkeypatch.setattr(report_jobs, "writer", writer)
    return settings
