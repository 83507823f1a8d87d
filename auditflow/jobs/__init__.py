"""Background jobs with Huey: sending the outbox, the daily reminders, reports, and sweeps.

Each application gets its queue (``app.extensions["auditflow.huey"]``): ``SqliteHuey``
in the instance folder by default, nothing to install, or ``RedisHuey`` when
``AUDITFLOW_QUEUE_URL=redis://…`` is set, so several machines share one queue. The
worker is ``flask --app auditflow worker``; every task runs in an application context
and is one or more short transactions of its own.

Tasks, each safe to run twice:

- ``deliver_email(id)``: claim, send, record (``services.mail``); a failed send raises,
  and Huey tries again after ``MAIL_RETRY_DELAY`` seconds, doubling each time;
- ``daily_reminders``: at ``REMINDER_HOUR`` in the body's zone, the day's digests
  (``services.reminders``);
- ``sweep_outbox``: every minute, messages whose enqueueing was lost (queue down,
  process killed) or whose sender died are queued again. Nothing in the outbox is
  lost; the claim makes sure nothing is sent twice;
- ``make_report(id)``: a report job (발행, or a large download): claim, make it in one
  transaction while a tracker thread writes its progress, commit it done, or roll it
  back and record why it failed (``services.report_jobs``); never retried by Huey:
  a failed job says why, and a job whose worker died is taken again by the sweep;
- ``sweep_report_jobs``: every minute, jobs whose worker died or that never end are
  taken again or failed, queued jobs whose queueing was lost are queued again, and
  downloads kept past their time are removed;
- ``sweep_storage``: daily at 03:41 in the body's zone, the storage folder's temp files left
  by a process that died mid-upload (older than a day; ``flask storage sweep``).

New outbox rows and report jobs are queued when the transaction that wrote them commits
(never before: a worker must find the row). A job queued while a request is answered
carries that request's id (``request_id``): each run writes one log line (the job, its
ids, the request id, the outcome and the time it took), and every line the job logs
carries the id too, so the worker's lines are found from the number on an error page.
"""

from __future__ import annotations

import logging
import time as clock
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from auditflow import dates, logs
from auditflow.errors import DomainError
from auditflow.extensions import db
from auditflow.models import EmailMessage
from auditflow.services import lockout, mail, reminders, report_jobs, user_sessions
from auditflow.services.issuing import IssueProgress
from auditflow.storage.transactional import file_store

log = logging.getLogger("auditflow.jobs")

_NEW_MESSAGES = "auditflow.new_email_messages"
_INLINE = "auditflow.deliver_inline"


if TYPE_CHECKING:
    from huey import Huey

SWEEP_STORAGE_HOUR = 3  # local time, when nobody uploads
STORAGE_TEMP_MAX_AGE = 24 * 3600  # seconds; a temp file lives one request or one command


class Jobs:
    """The queue of one application and its tasks, made when first asked for: a command
    or a page that queues nothing does not load Huey (start-up)."""

    huey: Huey
    deliver_email: Any
    daily_reminders: Any
    sweep_outbox: Any
    make_report: Any
    sweep_report_jobs: Any
    sweep_login_counts: Any
    sweep_sessions: Any
    sweep_storage: Any

    def __init__(self, app: Flask) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:
        # Only for what is not there yet: the queue and its tasks (the attributes declared
        # above), made together once.
        if name in Jobs.__annotations__ and "huey" not in self.__dict__:
            self._build()
            return self.__dict__[name]
        raise AttributeError(name)

    def _build(self) -> None:
        from huey import RedisHuey, SqliteHuey, crontab

        config = self.app.config
        name = config.get("QUEUE_NAME", "auditflow")
        if config.get("QUEUE_URL"):
            # A worker waits this long on Redis for the next task before it looks again.
            self.huey = RedisHuey(name, url=config["QUEUE_URL"], results=False,
                                        read_timeout=config.get("QUEUE_READ_TIMEOUT", 1))
        else:
            self.huey = SqliteHuey(name, filename=config["QUEUE_PATH"], results=False)
        delay = max(int(config["MAIL_RETRY_DELAY"]), 1)
        self.deliver_email = self.huey.task(
            retries=int(config["MAIL_MAX_ATTEMPTS"]), retry_delay=delay, retry_backoff=2,
            name="deliver_email")(self._in_context(deliver))
        self.daily_reminders = self.huey.periodic_task(
            crontab(minute="0", hour=str(_utc_hour(config["REMINDER_HOUR"], config["TIMEZONE"]))),
            name="daily_reminders")(self._in_context(run_reminders))
        self.sweep_outbox = self.huey.periodic_task(
            crontab(minute="*"), name="sweep_outbox")(self._in_context(sweep))
        self.make_report = self.huey.task(name="make_report")(self._in_context(make_report))
        self.sweep_report_jobs = self.huey.periodic_task(
            crontab(minute="*"), name="sweep_report_jobs")(self._in_context(sweep_reports))
        self.sweep_login_counts = self.huey.periodic_task(
            crontab(minute="17"), name="sweep_login_counts")(self._in_context(sweep_logins))
        self.sweep_sessions = self.huey.periodic_task(
            crontab(minute="23"), name="sweep_sessions")(self._in_context(sweep_sessions))
        self.sweep_storage = self.huey.periodic_task(
            crontab(minute="41", hour=str(_utc_hour(SWEEP_STORAGE_HOUR, config["TIMEZONE"]))),
            name="sweep_storage")(self._in_context(sweep_storage))

    def _in_context(self, function: Callable[..., Any]) -> Callable[..., Any]:
        app = self.app

        def task(*args: Any, request_id: str | None = None) -> Any:
            token = logs.bind_request_id(request_id)
            started = clock.perf_counter()
            outcome: Any = "error"
            try:
                with app.app_context():
                    try:
                        outcome = function(*args)
                        return outcome
                    finally:
                        db.session.remove()
            finally:
                # Ids and the outcome only: never a message's text, a file or an address.
                log.info("job", extra=logs.fields(
                    request_id=request_id, job=function.__name__,
                    ids=[a for a in args if isinstance(a, int)] or None,
                    outcome=outcome if isinstance(outcome, str) else "done",
                    duration_ms=round((clock.perf_counter() - started) * 1000, 1)))
                logs.unbind_request_id(token)

        task.__name__ = function.__name__
        return task

    def enqueue(self, message_ids: list[int]) -> None:
        for message_id in message_ids:
            try:
                self.deliver_email(message_id, request_id=logs.current_request_id())
            except Exception:  # noqa: BLE001 — the sweep queues it again
                log.exception("could not queue e-mail %s; the sweep will", message_id)

    def enqueue_reports(self, job_ids: list[int]) -> None:
        for job_id in job_ids:
            try:
                self.make_report(job_id, request_id=logs.current_request_id())
            except Exception:  # noqa: BLE001 — the sweep queues it again
                log.exception("could not queue report job %s; the sweep will", job_id)


def _utc_hour(local_hour: int, zone_name: str) -> int:
    """The UTC hour of ``local_hour`` in the zone today (Asia/Seoul keeps no summer time)."""
    moment = datetime.combine(date.today(), time(local_hour), tzinfo=dates.zone(zone_name))
    return moment.astimezone(UTC).hour


def init_app(app: Flask) -> None:
    app.extensions["auditflow.jobs"] = Jobs(app)


def jobs() -> Jobs:
    found: Jobs = current_app.extensions["auditflow.jobs"]
    return found


# ─── the tasks' bodies (each in its own application context) ─────────────────


def deliver(message_id: int) -> str:
    """Send one outbox message: "sent", "skipped" (not due or not pending) or raise to retry."""
    outgoing = mail.claim(message_id)
    db.session.commit()
    if outgoing is None:
        return "skipped"
    try:
        mail.send(outgoing)
    except mail.SendFailed as failure:
        retry_at = mail.record_failure(message_id, str(failure))
        db.session.commit()
        log.warning("e-mail %s not sent (%s); %s", message_id, failure,
                    f"next try {retry_at.isoformat()}" if retry_at else "given up")
        if retry_at is None:
            return "failed"
        raise
    mail.record_sent(message_id)
    db.session.commit()
    log.info("e-mail %s sent to %s", message_id, outgoing.to)
    return "sent"


def run_reminders(day: date | None = None) -> list[int]:
    """The daily run: write the day's digests and commit (their e-mails are then queued)."""
    result = reminders.run(day)
    db.session.commit()
    log.info("reminders for %s: %d digests, %d already done", result.day, len(result.digests),
             result.skipped)
    return [n.id for n in result.digests]


def sweep() -> int:
    """Queue again what is due and was not (or whose sender died). Returns how many."""
    mail.release_stale()
    db.session.commit()
    due = mail.due()
    jobs().enqueue(due)
    return len(due)


def make_report(job_id: int, listener: IssueProgress | None = None) -> str:
    """Make one report job: "done", "failed", "skipped" (not there to take) or "lost"
    (taken from this worker as stale while it ran: nothing of it is kept). ``listener`` is
    told the progress too (the command line that makes a job itself prints it)."""
    claimed = report_jobs.claim(job_id)
    db.session.commit()
    if claimed is None:
        return "skipped"
    tracker = report_jobs.tracker(claimed)
    tracker.listener = listener
    tracker.start()
    try:
        try:
            report_jobs.run(claimed, tracker)
            db.session.commit()  # the edition (or file) and "done", together
        except report_jobs.JobLost:
            db.session.rollback()
            log.warning("report job %s was taken from this worker; nothing kept", job_id)
            return "lost"
        except Exception as exc:  # noqa: BLE001 — recorded on the job, with its reason
            db.session.rollback()  # no half-issued edition: its rows and temp files go
            if isinstance(exc, DomainError):
                log.warning("report job %s refused: %s", job_id, exc.message)
            else:
                log.exception("report job %s failed", job_id)
            report_jobs.fail(claimed, report_jobs.failure_message(job_id, exc, tracker.current))
            db.session.commit()
            return "failed"
    finally:
        tracker.stop()  # after the job's transaction has ended (it may wait on its row)
    log.info("report job %s done", job_id)
    return "done"


def sweep_reports() -> int:
    """Take care of dead, endless, lost and old report jobs. Returns how many were queued."""
    result = report_jobs.sweep()
    db.session.commit()  # jobs taken again are queued by the commit
    jobs().enqueue_reports(result.requeue)
    return len(result.requeue)


def sweep_logins() -> int:
    """Forget sign-in counts idle for a day (services.lockout.sweep). Returns how many."""
    forgotten = lockout.sweep()
    db.session.commit()
    return forgotten


def sweep_sessions() -> int:
    """Remove the rows of sessions over for a month (services.user_sessions.purge): a
    device's summary and address are not kept for ever. Returns how many."""
    purged = user_sessions.purge()
    db.session.commit()
    if purged:
        log.info("removed %d ended sessions", purged)
    return purged


def sweep_storage() -> int:
    """Remove the storage folder's temp files older than a day. Returns how many."""
    removed = file_store().sweep(STORAGE_TEMP_MAX_AGE)
    if removed:
        log.info("storage sweep removed %d temp files", len(removed))
    return len(removed)


def deliver_inline(session: Session) -> None:
    """This session's new messages are sent by the caller itself (the reminders command)."""
    session.info[_INLINE] = True


# ─── new outbox rows are queued when their transaction commits ───────────────


@event.listens_for(Session, "after_flush")
def _note_new_messages(session: Session, _context: Any) -> None:
    ids = [obj.id for obj in session.new if isinstance(obj, EmailMessage)]
    if ids:
        session.info.setdefault(_NEW_MESSAGES, []).extend(ids)


@event.listens_for(Session, "after_commit")
def _queue_new_messages(session: Session) -> None:
    ids = session.info.pop(_NEW_MESSAGES, [])
    if not ids or session.info.get(_INLINE):
        return
    try:
        queue = jobs()
    except (KeyError, RuntimeError):  # no application with a queue here
        return
    queue.enqueue(ids)


@event.listens_for(Session, "after_soft_rollback")
def _forget_new_messages(session: Session, previous: Any) -> None:
    if previous.parent is None:
        session.info.pop(_NEW_MESSAGES, None)


# ─── report jobs are queued when their transaction commits ───────────────────


@event.listens_for(Session, "after_commit")
def _queue_report_jobs(session: Session) -> None:
    ids = session.info.pop(report_jobs.TO_QUEUE, [])
    if not ids:
        return
    try:
        queue = jobs()
    except (KeyError, RuntimeError):  # no application with a queue here
        return
    queue.enqueue_reports(ids)


@event.listens_for(Session, "after_soft_rollback")
def _forget_report_jobs(session: Session, previous: Any) -> None:
    if previous.parent is None:
        session.info.pop(report_jobs.TO_QUEUE, None)
