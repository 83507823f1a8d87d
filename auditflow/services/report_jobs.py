"""Report jobs: 발행, large downloads and 검증, made by the worker while the page shows how far
they are.

The summary page does not render five formats inside a request. It asks for a job:

- ``start_issue`` / ``start_download`` check what the page would have refused (who, which
  day, which format), then create a queued ``ReportJob``, or join the active one for the
  same audit and day (and, for a download, format and choice): a second click, or a
  second person, never starts a second edition. Two requests at the very same moment
  are taken one after the other (``issuing.lock_audit``): the second joins the first's
  job; the table's partial unique indexes hold the rule in the database too.
  The job is queued when the request's transaction commits (``TO_QUEUE``, read by
  ``auditflow.jobs``), never before: a worker must find the row.
- The worker (``auditflow.jobs``) ``claim``s it (queued → running, one worker only),
  ``run``s it in one transaction of its own and commits: the edition (or the download's
  file) and the job's "done" together, or neither. While it runs, a ``Tracker`` writes
  its progress and a sign of life (``heartbeat_at``) in short transactions of its own.
  A failure is recorded with a Korean message by ``fail`` after the rollback, so no
  half-issued edition is left: its files were temps, removed with the rollback.
- A job whose worker died (no sign of life for ``REPORT_JOB_STALE_SECONDS``) is taken
  again, ``REPORT_JOB_MAX_ATTEMPTS`` times in all, then failed with a message; one that
  runs longer than ``REPORT_JOB_TIMEOUT_MINUTES`` is failed. ``recover`` does both, from
  the worker's sweep every minute and whenever someone asks for the same job again. The
  worker that lost its job finds out when it finishes (its conditional update matches
  no row) and rolls back.

``start_verify`` asks for the check of an issued edition (``services.verification``): the
job names the edition from the start, one check per edition is under way at a time, and its
outcome, file by file, is kept on the job when it is done.

``status`` words a job for the page: the bar's value and maximum, the formats one by
one, a Korean sentence, and what came of it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from auditflow import dates
from auditflow.errors import DomainError, Forbidden
from auditflow.extensions import db
from auditflow.korean import with_particle
from auditflow.models import Audit, IssuedReport, ReportJob, User, utcnow
from auditflow.permissions import Capability, role_names
from auditflow.reports import FORMAT_LABELS, available_formats, writer
from auditflow.reports.content import CONTENT_TYPES, build_report
from auditflow.reports.summary import summarize
from auditflow.services import issuing, verification
from auditflow.storage.transactional import file_store, follow_transaction, remove_after_commit
from auditflow.vocabulary import ACTIVE_JOB_STATES, ReportJobKind, ReportJobState

log = logging.getLogger("auditflow.report_jobs")

# session.info key: ids of jobs to queue once this transaction commits (auditflow.jobs).
TO_QUEUE = "auditflow.report_jobs_to_queue"
QUEUED_LONG = timedelta(seconds=30)  # waiting longer than this: the page says so
REQUEUE_AFTER = timedelta(seconds=60)  # the sweep queues again what waits longer (lost)

_ACTIVE = [state.value for state in ACTIVE_JOB_STATES]
_RUNNING = ReportJobState.RUNNING.value


@dataclass(frozen=True)
class _Words:
    work: str  # "발행을", "파일 만들기를": the object of 마치다
    not_done: str  # what did not happen
    again: str  # what to do about it


_WORDS = {
    ReportJobKind.ISSUE: _Words("발행을", "발행하지 않았습니다", "다시 발행하세요"),
    ReportJobKind.DOWNLOAD: _Words("파일 만들기를", "파일을 만들지 않았습니다",
                                   "다시 파일 만들기를 누르세요"),
    ReportJobKind.VERIFY: _Words("검증을", "검증하지 못했습니다", "다시 검증을 누르세요"),
}


class JobLost(Exception):
    """The job is no longer this worker's (taken again or failed as stale): nothing is kept."""


# ─── asking for a job (in the request's transaction) ─────────────────────────


@dataclass(frozen=True)
class Started:
    job: ReportJob
    joined: bool  # an active job for the same thing was there: this request joined it


def start_issue(audit: Audit, as_of: date | None, user: User, *,
                include_due_changes: bool = True, queue: bool = True) -> Started:
    """Ask the worker to issue ``audit`` as of ``as_of``, or join the edition already under way.

    ``queue=False``: the caller makes the job itself (the command line); a job it leaves
    queued is still found by the sweep, and made by a worker."""
    day = issuing.check_issue(audit, as_of, user)
    return _start(ReportJobKind.ISSUE, audit, day, user, include_due_changes, None, queue=queue)


def start_verify(edition: IssuedReport, user: User) -> Started:
    """Ask the worker to verify ``edition`` (검증), or join the check of it under way."""
    verification.check_verify(user)
    issuing.lock_audit(edition.audit_id)
    now = utcnow()
    existing = db.session.scalars(
        select(ReportJob).where(ReportJob.kind == ReportJobKind.VERIFY.value,
                                ReportJob.issued_report_id == edition.id,
                                ReportJob.state.in_(_ACTIVE))
        .execution_options(populate_existing=True)).first()
    if existing is not None and recover(existing, now):
        return Started(existing, joined=True)
    job = ReportJob(kind=ReportJobKind.VERIFY.value, audit_id=edition.audit_id,
                    as_of=edition.as_of, include_due_changes=edition.include_due_changes,
                    issued_report=edition, requested_by=user, created_at=now, heartbeat_at=now,
                    formats=",".join(file.format for file in edition.files))
    return Started(_add(job), joined=False)


def start_download(audit: Audit, as_of: date, fmt: str, user: User, *,
                   include_due_changes: bool = True) -> Started:
    """Ask the worker to make one large file, or join the same file already under way."""
    if not user.can(Capability.VIEW_REPORTS):
        raise Forbidden(f"보고서는 {role_names(Capability.VIEW_REPORTS)}만 내려받을 수 있습니다.")
    writer(fmt)  # FormatUnavailable: 404 with its Korean message
    if as_of > dates.today():
        raise DomainError("기준일은 오늘 이후일 수 없습니다.", code="as_of_in_future")
    return _start(ReportJobKind.DOWNLOAD, audit, as_of, user, include_due_changes, fmt)


def needs_job(fmt: str, items: int) -> bool:
    """Is a download of ``fmt`` with ``items`` items too large to make inside a request?"""
    limits: dict[str, int] = current_app.config["DIRECT_DOWNLOAD_MAX_ITEMS"]
    return items > limits.get(fmt, 0)


def report_items(audit: Audit, as_of: date) -> int:
    """The items the report as of ``as_of`` lists, counted (the 총괄 table's 계), not built:
    a request asks this before it builds a report it may hand to the worker instead."""
    return summarize(audit, as_of).total.total


def _start(kind: ReportJobKind, audit: Audit, as_of: date, user: User, include: bool,
           fmt: str | None, *, queue: bool = True) -> Started:
    # Two requests at the same moment: the second waits here for the first to commit,
    # then finds its job and joins it. (The partial unique indexes hold the rule too.)
    issuing.lock_audit(audit.id)
    now = utcnow()
    existing = _active(kind, audit.id, as_of, fmt, include)
    if existing is not None and recover(existing, now):
        return Started(existing, joined=True)
    # The formats it will make, as far as one can tell now (the worker says again).
    formats = [fmt] if fmt else available_formats()
    job = ReportJob(kind=kind.value, audit=audit, as_of=as_of, format=fmt,
                    include_due_changes=include, requested_by=user, created_at=now,
                    heartbeat_at=now, formats=",".join(formats))
    return Started(_add(job, queue=queue), joined=False)


def _add(job: ReportJob, *, queue: bool = True) -> ReportJob:
    db.session.add(job)
    try:
        db.session.flush()
    except IntegrityError as exc:  # not after the lock; the database says so all the same
        raise DomainError("같은 보고서를 만드는 작업이 이미 있습니다. 화면을 새로 고쳐 확인하세요.",
                          code="report_job_active", status=409) from exc
    if queue:
        queue_after_commit(job.id)
    return job


def _active(kind: ReportJobKind, audit_id: int, as_of: date, fmt: str | None,
            include: bool) -> ReportJob | None:
    query = select(ReportJob).where(ReportJob.kind == kind.value, ReportJob.audit_id == audit_id,
                                    ReportJob.as_of == as_of, ReportJob.state.in_(_ACTIVE))
    if kind is ReportJobKind.DOWNLOAD:
        query = query.where(ReportJob.format == fmt, ReportJob.include_due_changes == include)
    return db.session.scalars(query.execution_options(populate_existing=True)).first()


def queue_after_commit(job_id: int) -> None:
    db.session.info.setdefault(TO_QUEUE, []).append(job_id)


# ─── jobs whose worker died or that never end ────────────────────────────────


def _limits() -> tuple[timedelta, timedelta, int]:
    config = current_app.config
    return (timedelta(seconds=float(config["REPORT_JOB_STALE_SECONDS"])),
            timedelta(minutes=int(config["REPORT_JOB_TIMEOUT_MINUTES"])),
            int(config["REPORT_JOB_MAX_ATTEMPTS"]))


def recover(job: ReportJob, now: datetime | None = None) -> bool:
    """Take care of ``job`` if its worker died or it ran too long; is it still active then?

    A running job silent for longer than the stale limit goes back to the queue (and is
    queued when this transaction commits), or fails once it has had its attempts; one
    running past the time limit fails. Each change is a conditional update of the row
    as it was judged (same attempt, still silent), so a worker that finishes or shows
    life at that moment keeps its job. Flushes.
    """
    now = now or utcnow()
    if job.state != _RUNNING:
        return job.active
    stale, timeout, attempts = _limits()
    words = _WORDS[job.kind_enum]
    judged = (ReportJob.id == job.id, ReportJob.state == _RUNNING,
              ReportJob.attempts == job.attempts)
    if job.started_at is not None and job.started_at < now - timeout:
        message = (f"{int(timeout.total_seconds() // 60)}분이 지나도 끝나지 않아 중단했습니다. "
                   f"{words.again}. 되풀이되면 관리자에게 알려 주세요.")
        _change(job, (*judged, ReportJob.started_at < now - timeout),
                state=ReportJobState.FAILED.value, error=message, finished_at=now)
        return job.active
    if job.heartbeat_at is not None and job.heartbeat_at >= now - stale:
        return True
    silent = (*judged, ReportJob.heartbeat_at < now - stale)
    if job.attempts < attempts:
        if _change(job, silent, state=ReportJobState.QUEUED.value, heartbeat_at=now):
            log.warning("report job %s: no sign of life since %s; queued again", job.id,
                        job.heartbeat_at)
            queue_after_commit(job.id)
        return job.active
    message = (f"작업자가 응답하지 않아 {words.work} 마치지 못했습니다({job.attempts}번 시도). "
               f"{words.again}. 되풀이되면 관리자에게 알려 주세요.")
    _change(job, silent, state=ReportJobState.FAILED.value, error=message, finished_at=now)
    return job.active


def _change(job: ReportJob, where: tuple[Any, ...], **values: Any) -> bool:
    """Update ``job``'s row if it still is as ``where`` says; reload it either way."""
    db.session.flush()
    changed = db.session.execute(update(ReportJob).where(*where).values(**values)
                                 .execution_options(synchronize_session=False))
    db.session.refresh(job)
    if getattr(changed, "rowcount", 0) == 1:
        if "error" in values:
            log.warning("report job %s failed: %s", job.id, values["error"])
        return True
    return False


@dataclass
class Swept:
    requeue: list[int] = field(default_factory=list)  # to queue now (waiting and likely lost)
    failed: int = 0
    removed_files: int = 0


def sweep(now: datetime | None = None) -> Swept:
    """The worker's minute: recover dead or endless jobs, queue again what waits for too
    long (its queueing was lost), drop downloads kept past their time. Flushes."""
    now = now or utcnow()
    result = Swept()
    stale, _timeout, _attempts = _limits()
    running = db.session.scalars(select(ReportJob).where(
        ReportJob.state == _RUNNING, ReportJob.heartbeat_at < now - stale))
    for job in list(running):
        if not recover(job, now):
            result.failed += 1
    timeout = timedelta(minutes=int(current_app.config["REPORT_JOB_TIMEOUT_MINUTES"]))
    overdue = db.session.scalars(select(ReportJob).where(
        ReportJob.state == _RUNNING, ReportJob.started_at < now - timeout))
    for job in list(overdue):
        if not recover(job, now):
            result.failed += 1
    result.requeue = list(db.session.scalars(
        select(ReportJob.id).where(ReportJob.state == ReportJobState.QUEUED.value,
                                   ReportJob.heartbeat_at < now - REQUEUE_AFTER)
        .order_by(ReportJob.id)))
    result.removed_files = _drop_old_downloads(now)
    return result


def _drop_old_downloads(now: datetime) -> int:
    keep = timedelta(hours=int(current_app.config["REPORT_DOWNLOAD_KEEP_HOURS"]))
    old = list(db.session.scalars(select(ReportJob).where(
        ReportJob.kind == ReportJobKind.DOWNLOAD.value, ReportJob.state.not_in(_ACTIVE),
        ReportJob.finished_at < now - keep)))
    store = file_store()
    for job in old:
        if job.file_key:  # the file goes with the row: once it is gone for good
            remove_after_commit(db.session(), store, job.file_key)
    if old:
        db.session.execute(delete(ReportJob).where(ReportJob.id.in_([job.id for job in old])))
    return sum(1 for job in old if job.file_key)


# ─── the worker's side ───────────────────────────────────────────────────────


@dataclass(frozen=True)
class Claimed:
    id: int
    attempt: int


def claim(job_id: int, now: datetime | None = None) -> Claimed | None:
    """Take a queued job for this worker (one worker only); None when it is not there to take."""
    now = now or utcnow()
    taken = db.session.execute(
        update(ReportJob)
        .where(ReportJob.id == job_id, ReportJob.state == ReportJobState.QUEUED.value)
        .values(state=_RUNNING, attempts=ReportJob.attempts + 1, started_at=now,
                heartbeat_at=now, formats_done=0, current_format=None, done=0, total=0)
        .execution_options(synchronize_session=False))
    if getattr(taken, "rowcount", 0) != 1:
        return None
    attempt = db.session.scalar(select(ReportJob.attempts).where(ReportJob.id == job_id))
    assert attempt is not None
    return Claimed(job_id, attempt)


def run(claimed: Claimed, tracker: issuing.IssueProgress | None = None) -> ReportJob:
    """Make what the job asks for and mark it done; flushes, the caller commits (or rolls
    back: then nothing of it is kept). ``JobLost`` if the job is no longer this worker's."""
    job = db.session.get(ReportJob, claimed.id, populate_existing=True)
    assert job is not None
    if job.kind_enum is ReportJobKind.ISSUE:
        result = issuing.issue(job.audit, job.as_of, job.requested_by,
                               include_due_changes=job.include_due_changes, progress=tracker)
        _finish(claimed, issued_report_id=result.issued.id, missing=",".join(result.missing),
                formats=",".join(file.format for file in result.issued.files),
                formats_done=len(result.issued.files))
        return job
    if job.kind_enum is ReportJobKind.VERIFY:
        assert job.issued_report is not None
        checked = verification.verify(job.issued_report, tracker)
        _finish(claimed, verification=checked.to_json(),
                formats=",".join(check.format for check in checked.files),
                formats_done=len(checked.files))
        return job
    fmt = job.format
    assert fmt is not None
    report = build_report(job.audit, job.as_of, include_due_changes=job.include_due_changes)
    if tracker is not None:
        tracker.begin([fmt], len(report.items), [])
    store = file_store()
    stored, temp = issuing.generate(store, writer(fmt), report,
                                    (lambda done, total: tracker.items(fmt, done, total))
                                    if tracker is not None else None)
    try:
        _finish(claimed, file_key=stored.key, file_name=report.file_name(fmt),
                file_size=stored.size, file_sha256=stored.sha256, formats=fmt, formats_done=1)
    except BaseException:
        store.discard(temp)
        raise
    follow_transaction(db.session(), store, temp, stored.key)
    return job


def _finish(claimed: Claimed, **values: Any) -> None:
    now = utcnow()
    finished = db.session.execute(
        update(ReportJob)
        .where(ReportJob.id == claimed.id, ReportJob.state == _RUNNING,
               ReportJob.attempts == claimed.attempt)
        .values(state=ReportJobState.DONE.value, finished_at=now, heartbeat_at=now,
                current_format=None, error=None, **values)
        .execution_options(synchronize_session=False))
    if getattr(finished, "rowcount", 0) != 1:
        raise JobLost(f"report job {claimed.id} is no longer attempt {claimed.attempt}'s")


def fail(claimed: Claimed, message: str) -> bool:
    """Record why the job failed (after the rollback of its work); False if it was not ours."""
    now = utcnow()
    failed = db.session.execute(
        update(ReportJob)
        .where(ReportJob.id == claimed.id, ReportJob.state == _RUNNING,
               ReportJob.attempts == claimed.attempt)
        .values(state=ReportJobState.FAILED.value, finished_at=now, heartbeat_at=now,
                error=message)
        .execution_options(synchronize_session=False))
    return getattr(failed, "rowcount", 0) == 1


def failure_message(job_id: int, exc: BaseException, fmt: str | None) -> str:
    """What the page says about a failure: a refusal's own words, or what went wrong where."""
    kind = db.session.scalar(select(ReportJob.kind).where(ReportJob.id == job_id))
    words = _WORDS[ReportJobKind(kind) if kind else ReportJobKind.ISSUE]
    if isinstance(exc, DomainError):
        return f"{exc.message} ({words.not_done}.)"
    where = f"{FORMAT_LABELS.get(fmt, fmt)} 파일을 만들다가 " if fmt else ""
    return (f"{where}오류가 나서 {words.not_done}. {words.again}. 되풀이되면 관리자에게 "
            f"알려 주세요. (오류: {type(exc).__name__})")


class Tracker:
    """The progress of one running job, written to its row by a thread of its own.

    The writers call ``items`` as often as they like; the thread writes the latest
    values at most every ``every`` seconds, and a sign of life (``heartbeat_at``) at
    least every heartbeat, each in a short transaction on a connection of its own (the
    job's own transaction stays open until its end). It writes only while the job is
    still this attempt's and running. Stop it after the job's transaction has ended.
    """

    def __init__(self, claimed: Claimed, engine: Engine, *, heartbeat: float,
                 every: float = 0.5) -> None:
        self.claimed = claimed
        self.engine = engine
        self.heartbeat = heartbeat
        self.every = min(every, heartbeat)
        self.current: str | None = None
        self._lock = threading.Lock()
        self._values: dict[str, Any] = {}
        self._dirty = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"report-job-{claimed.id}",
                                        daemon=True)
        self._formats: list[str] = []
        # Told the same as the row, in the job's own thread (the command line prints it).
        self.listener: issuing.IssueProgress | None = None

    # IssueProgress
    def begin(self, formats: Sequence[str], items: int, missing: Sequence[str]) -> None:
        if self.listener is not None:
            self.listener.begin(formats, items, missing)
        self._formats = list(formats)
        self._set(formats=",".join(formats), missing=",".join(missing), total=items, done=0,
                  formats_done=0, current_format=formats[0] if formats else None)

    def items(self, fmt: str, done: int, total: int) -> None:
        if self.listener is not None:
            self.listener.items(fmt, done, total)
        self.current = fmt
        self._set(current_format=fmt, done=done, total=total)

    def finished(self, fmt: str) -> None:
        if self.listener is not None:
            self.listener.finished(fmt)
        index = self._formats.index(fmt) if fmt in self._formats else -1
        following = self._formats[index + 1] if 0 <= index < len(self._formats) - 1 else None
        self._set(formats_done=index + 1, current_format=following, done=0)

    def _set(self, **values: Any) -> None:
        with self._lock:
            self._values.update(values)
            self._dirty = True

    # the thread
    def start(self) -> Tracker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        last = 0.0
        clock = 0.0
        while not self._stop.wait(self.every):
            clock += self.every
            with self._lock:
                due = self._dirty or clock - last >= self.heartbeat
                values = dict(self._values) if self._dirty else {}
                self._dirty = False
            if not due:
                continue
            last = clock
            try:
                self._write(values)
            except Exception:  # noqa: BLE001 — progress is a courtesy; the job goes on
                log.exception("report job %s: could not write its progress", self.claimed.id)

    def _write(self, values: dict[str, Any]) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(ReportJob)
                .where(ReportJob.id == self.claimed.id, ReportJob.state == _RUNNING,
                       ReportJob.attempts == self.claimed.attempt)
                .values(heartbeat_at=utcnow(), **values))


def tracker(claimed: Claimed) -> Tracker:
    return Tracker(claimed, db.engine,
                   heartbeat=float(current_app.config["REPORT_JOB_HEARTBEAT_SECONDS"]))


# ─── the page's view of a job ────────────────────────────────────────────────


@dataclass(frozen=True)
class FormatStep:
    format: str
    label: str
    state: str  # waiting, working, done
    done: int
    total: int


@dataclass(frozen=True)
class JobStatus:
    job: ReportJob
    value: int
    maximum: int
    steps: tuple[FormatStep, ...]
    text: str  # one Korean sentence: where it stands
    finished: bool
    issued: IssuedReport | None
    # A verify job's edition and, once done, its outcome file by file.
    edition: IssuedReport | None = None
    checked: verification.Verification | None = None

    @property
    def percent(self) -> int:
        return round(100 * self.value / self.maximum) if self.maximum else 0


def load(job_id: int) -> ReportJob | None:
    return db.session.get(ReportJob, job_id, populate_existing=True)


def status(job: ReportJob, now: datetime | None = None) -> JobStatus:
    now = now or utcnow()
    formats = job.format_list or ([job.format] if job.format else [])
    unit = max(job.total, 1)
    steps = []
    for index, fmt in enumerate(formats):
        if index < job.formats_done or job.state_enum is ReportJobState.DONE:
            steps.append(FormatStep(fmt, FORMAT_LABELS.get(fmt, fmt), "done", job.total, job.total))
        elif fmt == job.current_format and job.state_enum is ReportJobState.RUNNING:
            steps.append(FormatStep(fmt, FORMAT_LABELS.get(fmt, fmt), "working",
                                    min(job.done, job.total), job.total))
        else:
            steps.append(FormatStep(fmt, FORMAT_LABELS.get(fmt, fmt), "waiting", 0, job.total))
    maximum = max(len(formats), 1) * unit
    if job.state_enum is ReportJobState.DONE:
        value = maximum
    else:
        value = min(job.formats_done * unit + min(job.done, unit), maximum)
    if job.kind_enum is ReportJobKind.VERIFY:
        checked = (verification.Verification.from_json(job.verification)
                   if job.verification else None)
        return JobStatus(job=job, value=value, maximum=maximum, steps=tuple(steps),
                         text=_verify_sentence(job, steps, checked, now),
                         finished=not job.active, issued=None, edition=job.issued_report,
                         checked=checked)
    issued = job.issued_report if job.issued_report_id else None
    return JobStatus(job=job, value=value, maximum=maximum, steps=tuple(steps),
                     text=_sentence(job, steps, issued, now), finished=not job.active,
                     issued=issued)


def _verify_sentence(job: ReportJob, steps: Sequence[FormatStep],
                     checked: verification.Verification | None, now: datetime) -> str:
    if job.state_enum is ReportJobState.DONE and checked is not None:
        assert job.issued_report is not None
        return checked.summary(job.issued_report)
    return _sentence(job, steps, None, now)


def _what(job: ReportJob) -> str:
    kind = job.kind_enum
    if kind is ReportJobKind.ISSUE:
        return f"{dates.short(job.as_of)} 기준 보고서 발행"
    if kind is ReportJobKind.VERIFY and job.issued_report is not None:
        return f"{issuing.edition_label(job.issued_report)}({dates.short(job.as_of)} 기준) 검증"
    return f"{dates.short(job.as_of)} 기준 {FORMAT_LABELS.get(job.format or '', '')} 파일"


def _sentence(job: ReportJob, steps: Sequence[FormatStep], issued: IssuedReport | None,
              now: datetime) -> str:
    kind = job.kind_enum
    what = _what(job)
    state = job.state_enum
    if state is ReportJobState.QUEUED:
        waited = now - (job.heartbeat_at or job.created_at)
        if waited > QUEUED_LONG:
            return (f"{what}: 대기 중입니다. 작업자가 아직 시작하지 않았습니다. 잠시 기다리거나, "
                    "계속되면 관리자에게 알려 주세요.")
        return f"{what}: 대기 중입니다. 곧 시작합니다."
    if state is ReportJobState.RUNNING:
        stale, _timeout, _attempts = _limits()
        if job.heartbeat_at is not None and job.heartbeat_at < now - stale:
            silent = int((now - job.heartbeat_at).total_seconds())
            return (f"{what}: 작업자의 응답이 {silent}초째 없습니다. 곧 다시 시도하거나, "
                    "더 시도할 수 없으면 실패로 알려 드립니다.")
        if not steps:
            return f"{what}: 준비 중입니다."
        done = sum(1 for step in steps if step.state == "done")
        working = next((step for step in steps if step.state == "working"), None)
        head = f"{what}: {len(steps)}개 형식 중 {done}개 완료"
        if working is None:
            return f"{head}, 마무리 중입니다."
        # Format by format only: this sentence is read out (role=status); the items of the
        # format at work are in the list of formats, which is not.
        doing = "다시 만들어 비교하는" if kind is ReportJobKind.VERIFY else "만드는"
        return f"{head}, {working.label} {doing} 중입니다."
    if state is ReportJobState.FAILED:
        return f"{what}: 실패했습니다. {job.error or ''}".rstrip()
    if kind is ReportJobKind.ISSUE and issued is not None:
        missing = [FORMAT_LABELS.get(fmt, fmt) for fmt in job.missing_list]
        note = (f" {', '.join(missing)} 형식은 아직 만들 수 없어 이번 판에 넣지 못했습니다."
                if missing else "")
        return (f"{issuing.edition_label(issued)}을 발행했습니다 ({dates.short(job.as_of)} 기준, "
                f"파일 {len(issued.files)}개).{note}")
    return f"{with_particle(what, '을/를')} 만들었습니다. 아래에서 내려받으세요."


def active_for(audit: Audit) -> list[ReportJob]:
    """The audit's jobs under way, oldest first (the summary page shows them)."""
    return list(db.session.scalars(
        select(ReportJob).where(ReportJob.audit_id == audit.id, ReportJob.state.in_(_ACTIVE))
        .order_by(ReportJob.id)))


def download_content_type(job: ReportJob) -> str:
    return CONTENT_TYPES[job.format or ""]


__all__ = [
    "JobLost",
    "JobStatus",
    "Started",
    "Tracker",
    "active_for",
    "claim",
    "fail",
    "needs_job",
    "recover",
    "run",
    "start_download",
    "start_issue",
    "start_verify",
    "status",
    "sweep",
]
