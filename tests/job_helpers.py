"""Report jobs in tests: run what is queued here, as the worker would, or wait for a real one."""

from __future__ import annotations

from typing import Any

from flask import has_app_context
from sqlalchemy import select

from auditflow.extensions import db
from auditflow.models import ReportJob
from auditflow.vocabulary import ReportJobState


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
