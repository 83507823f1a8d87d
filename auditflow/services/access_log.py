"""The access log (접속기록): who did what to accounts and downloaded what, when, from where.

``record_access(kind, ...)`` is the one way in: one call where the event happens (sign-in,
sign-out, password and role changes, users, tokens, refusals, downloads, exports), in the
event's own transaction, as an ``AccessRecord`` (append-only, hash-chained) and one JSON
log line on the ``auditflow.access`` logger. A refusal's record is kept although the request
rolls back (``http.transaction.keep_refusal``).

The law this follows (개인정보의 안전성 확보조치 기준 제8조): who accessed what and when, kept
at least a year (two for large or sensitive systems: ``ACCESS_LOG_RETENTION_DAYS``, 730 by
default), checked monthly (``reports.access_review``), protected from alteration (the chain), with
the reason for downloads of personal data (asked once per session before an evidence
download, ``ACCESS_DOWNLOAD_REASON``).

``purge(now)`` removes only expired records, from the start of the chain, after checking it,
and moves the chain's start (``ChainHead.start_seq``/``start_hash``) so it stays verifiable.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, has_request_context, request, session
from flask_login import current_user
from sqlalchemy import delete, func, select, text

from auditflow.errors import DomainError
from auditflow.extensions import db
from auditflow.models import AccessKind, AccessRecord, AccessResult, ChainHead, User, utcnow
from auditflow.services import integrity

log = logging.getLogger("auditflow.access")

SESSION_REASON = "evidence_download_reason"


def record_access(kind: AccessKind, *, user: User | None = None, login: str | None = None,
                  target: str | None = None, success: bool = True, detail: str | None = None,
                  reason: str | None = None, remote_addr: str | None = None) -> AccessRecord:
    """Record one event (added to the session; flushed and committed with it)."""
    if has_request_context():
        remote_addr = remote_addr or request.remote_addr
        if user is None and login is None and current_user.is_authenticated:
            user = current_user._get_current_object()
    record = AccessRecord(
        at=utcnow(), user=user, login=(login or (user.login if user else None) or "")[:64] or None,
        remote_addr=(remote_addr or "")[:64] or None, kind=kind.value,
        target=(target or "")[:300] or None,
        result=(AccessResult.SUCCESS if success else AccessResult.FAILURE).value,
        detail=(detail or "")[:300] or None, reason=reason or None)
    db.session.add(record)
    log.info(json.dumps({"event": kind.value, "at": record.at.isoformat(), "login": record.login,
                         "addr": record.remote_addr, "target": record.target,
                         "result": record.result, "detail": record.detail,
                         "reason": record.reason}, ensure_ascii=False))
    return record


def download_reason() -> str | None:
    """The reason given in this session for evidence downloads, if one was given."""
    value = session.get(SESSION_REASON)
    return str(value) if value else None


def needs_download_reason() -> bool:
    return bool(current_app.config["ACCESS_DOWNLOAD_REASON"]) and download_reason() is None


REASON_MAX = 500


def give_download_reason(reason: str | None) -> str:
    """Keep the reason for this session's evidence downloads; refuse an empty or long one."""
    text = (reason or "").strip()
    if not text:
        raise DomainError("내려받는 사유를 입력하세요.", code="reason_required", field="reason")
    if len(text) > REASON_MAX:
        raise DomainError(f"사유는 {REASON_MAX}자 이하로 입력하세요.", code="reason_too_long",
                          field="reason")
    session[SESSION_REASON] = text
    return text


# -- retention -----------------------------------------------------------------

@dataclass(frozen=True)
class Purged:
    removed: int
    kept: int
    cutoff: datetime


def purge(now: datetime | None = None) -> Purged:
    """Remove the records older than the retention, oldest first, and keep the chain
    verifiable. Runs as the tables' owner (the application's role may not delete)."""
    now = now or utcnow()
    cutoff = now - timedelta(days=int(current_app.config["ACCESS_LOG_RETENTION_DAYS"]))
    checked = integrity.Verification()
    integrity.walk(AccessRecord, checked)
    if checked.problems:
        raise DomainError(f"접속기록의 해시 사슬이 끊어져 있어 삭제하지 않았습니다: "
                          f"{checked.problems[0]}", code="chain_broken")
    # Only a run of expired records from the start: the first one still kept bounds it.
    first_kept = db.session.scalar(select(func.min(AccessRecord.chain_seq))
                                   .where(AccessRecord.at >= cutoff))
    query = select(AccessRecord.chain_seq, AccessRecord.chain_hash).where(
        AccessRecord.at < cutoff)
    if first_kept is not None:
        query = query.where(AccessRecord.chain_seq < first_kept)
    last = db.session.execute(query.order_by(AccessRecord.chain_seq.desc()).limit(1)).first()
    total = db.session.scalar(select(func.count()).select_from(AccessRecord)) or 0
    if last is None:
        return Purged(0, total, cutoff)
    seq, hash_ = int(last[0] or 0), str(last[1])
    removed = _delete_through(seq)
    head = db.session.get(ChainHead, AccessRecord.__tablename__)
    assert head is not None  # a chain with rows has its head
    head.start_seq, head.start_hash = seq, hash_
    db.session.flush()
    log.info(json.dumps({"event": "access_log_purged", "through_seq": seq, "removed": removed,
                         "cutoff": cutoff.isoformat()}))
    return Purged(removed, total - removed, cutoff)


def _delete_through(seq: int) -> int:
    table = AccessRecord.__tablename__
    dialect = db.session.get_bind().dialect.name
    message = AccessRecord.append_only_message
    # The append-only trigger stands aside for this one statement of the owner's transaction.
    if dialect == "postgresql":
        db.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_no_update"))
    else:
        db.session.execute(text(f"DROP TRIGGER {table}_no_delete"))
    result = db.session.execute(delete(AccessRecord).where(AccessRecord.chain_seq <= seq)
                                .execution_options(synchronize_session=False))
    if dialect == "postgresql":
        db.session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_no_update"))
    else:
        db.session.execute(text(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"))
    return int(result.rowcount)  # type: ignore[attr-defined]
