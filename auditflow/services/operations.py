"""What the operators of the service ask the database: the production start-up check and the
numbers GET /metrics shows, each computed by a query when asked."""

from __future__ import annotations

from sqlalchemy import func

from auditflow.extensions import db
from auditflow.models import AccessKind, AccessRecord, EmailMessage, Recommendation, ReportJob, User
from auditflow.vocabulary import OPEN_STATES, Delivery, ReportJobState


def demo_accounts() -> list[str]:
    """Logins of demo accounts someone can sign in to: made by ``flask seed --demo`` (an
    address of the reserved example domain) and given a password and left active."""
    from auditflow.services.seeding import DEMO_MAIL_DOMAIN  # its import chain, lazily

    return list(db.session.scalars(
        db.select(User.login)
        .where(User.active.is_(True), User.password_hash.is_not(None),
               User.email.like(f"%@{DEMO_MAIL_DOMAIN}"))
        .order_by(User.login)))


def open_items_by_state() -> dict[str, int]:
    """Recommendations not yet closed, by state (every open state, 0 included)."""
    counts = {state: int(count) for state, count in db.session.execute(
        db.select(Recommendation.state, func.count())
        .where(Recommendation.state.in_([s.value for s in OPEN_STATES]))
        .group_by(Recommendation.state))}
    return {state.value: int(counts.get(state.value, 0)) for state in OPEN_STATES}


def failed_jobs() -> dict[str, int]:
    """Jobs that failed for good: e-mails given up, report jobs failed."""
    emails = db.session.scalar(db.select(func.count()).select_from(EmailMessage)
                               .where(EmailMessage.status == Delivery.FAILED.value))
    reports = db.session.scalar(db.select(func.count()).select_from(ReportJob)
                                .where(ReportJob.state == ReportJobState.FAILED.value))
    return {"deliver_email": int(emails or 0), "make_report": int(reports or 0)}


def sign_in_failures() -> int:
    """Failed sign-ins recorded in the access log (kept ACCESS_LOG_RETENTION_DAYS)."""
    count = db.session.scalar(db.select(func.count()).select_from(AccessRecord)
                              .where(AccessRecord.kind == AccessKind.SIGN_IN_FAILED.value))
    return int(count or 0)
