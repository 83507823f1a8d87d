"""Issuing the report (발행): the files exactly as sent to the council.

``issue(audit, as_of, user)`` generates every available format for the
reference date, stores each file through the evidence file store and records
an ``IssuedReport`` (running number per audit: 제1판, 제2판, …) with one
``IssuedReportFile`` per format (name, size, SHA-256, content type). The files
follow the database transaction the way evidence does
(``auditflow.storage.transactional``): they reach their final place as the
transaction commits and are removed if it rolls back.

The page does not wait for it: it asks for a report job (``services.report_jobs``),
and the worker calls ``issue`` with a ``progress`` that writes how far it has got
(the formats, the one at work, its items) for the page to show.

Nothing changes or deletes an issued version: no route does, and both tables
are append-only (``models.base.AppendOnly``: the ORM and database triggers refuse
an update or delete). Regenerating the same audit
and day later gives the same numbers and texts, because the report is rebuilt
from the append-only history.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from auditflow import dates
from auditflow.errors import DomainError, Forbidden, NotFound
from auditflow.extensions import db
from auditflow.models import Audit, IssuedReport, IssuedReportFile, User, utcnow
from auditflow.permissions import Capability, role_names
from auditflow.reports import FORMAT_LABELS, FORMATS, FormatUnavailable, Writer, writer
from auditflow.reports.content import CONTENT_TYPES, Report, build_report
from auditflow.reports.progress import Progress
from auditflow.storage import Storage, StoredFile
from auditflow.storage.transactional import file_store, follow_transaction


class IssueProgress(Protocol):
    """Told how far an edition (or one file) has got, format by format."""

    def begin(self, formats: Sequence[str], items: int, missing: Sequence[str]) -> None:
        """The formats to make, in order; the report's items; formats with no writer."""

    def items(self, fmt: str, done: int, total: int) -> None:
        """``fmt``'s writer has written ``done`` of ``total`` items."""

    def finished(self, fmt: str) -> None:
        """``fmt``'s file is written and kept (as a temp until the commit)."""

log = logging.getLogger("auditflow.integrity")


@dataclass(frozen=True)
class Issued:
    issued: IssuedReport
    missing: tuple[str, ...]  # formats that could not be made (no writer yet)


def edition_label(issued: IssuedReport) -> str:
    return f"제{issued.number}판"


def issued_file_name(report: Report, number: int, fmt: str) -> str:
    """"2025 행정사무감사 처리결과('26.1.31. 기준)_제1판.pdf"."""
    return f"{report.title}({report.reference_label})_제{number}판.{fmt}"


def check_issue(audit: Audit, as_of: date | None, user: User) -> date:
    """Refuse what may not be issued (who, which day), before anything is made; the day."""
    if not user.can(Capability.ISSUE_REPORTS):
        raise Forbidden(f"보고서 발행은 {role_names(Capability.ISSUE_REPORTS)}만 할 수 있습니다.")
    if as_of is None:
        raise DomainError("발행할 기준일을 입력하세요.", code="as_of_required")
    if as_of > dates.today():
        raise DomainError("기준일이 오늘보다 늦을 수 없습니다. 오늘 또는 지난 날짜로 발행하세요.",
                          code="as_of_in_future")
    return as_of


def issue(audit: Audit, as_of: date | None, user: User, *,
          include_due_changes: bool = True, progress: IssueProgress | None = None) -> Issued:
    """Issue the report of ``audit`` as of ``as_of``; flushes, the caller commits."""
    day = check_issue(audit, as_of, user)
    # The edition is the history as it stood at its moment of issue (``issued_at``), up to
    # the end of the reference day, and is dated the local day of that moment (document
    # properties of the files): all of it is on the row, so its files can be made again.
    now = utcnow()
    report = build_report(audit, day, include_due_changes=include_due_changes,
                          issued_on=issued_day(now), until=now)
    writers, missing = available_writers()
    if not writers:
        raise DomainError("만들 수 있는 형식이 없어 발행하지 않았습니다.", code="format_unavailable")
    if progress is not None:
        progress.begin([fmt for fmt, _ in writers], len(report.items), missing)
    store = file_store()
    staged: list[tuple[str, Any, Path]] = []
    try:
        for fmt, write in writers:
            stored, temp = generate(store, write, report,
                                    partial(progress.items, fmt) if progress else None)
            staged.append((fmt, stored, temp))
            if progress is not None:
                progress.finished(fmt)
        issued = _insert(audit, day, user, report, staged, now)
    except BaseException:
        for _fmt, _stored, temp in staged:
            store.discard(temp)
        raise
    for _fmt, stored, temp in staged:
        follow_transaction(db.session(), store, temp, stored.key)
    return Issued(issued, missing)


def available_writers() -> tuple[list[tuple[str, Writer]], tuple[str, ...]]:
    """The writers that can be loaded now, in format order, and the formats that cannot."""
    found: list[tuple[str, Writer]] = []
    missing: list[str] = []
    for fmt in FORMATS:
        try:
            found.append((fmt, writer(fmt)))
        except FormatUnavailable:
            missing.append(fmt)
    return found, tuple(missing)


def generate(store: Storage, write: Writer, report: Report,
             progress: Progress | None = None) -> tuple[StoredFile, Path]:
    """Write one format to a scratch file, then let the store hash and keep it (as a temp)."""
    fd, name = tempfile.mkstemp(dir=store.tmp_dir, prefix="report-", suffix=".part")
    os.close(fd)
    scratch = Path(name)
    try:
        write(report, scratch, progress)
        with scratch.open("rb") as stream:
            return store.save(stream)
    finally:
        scratch.unlink(missing_ok=True)


def lock_audit(audit_id: int) -> None:
    """Serialise what numbers the audit's editions (and starts its report jobs) until this
    transaction ends: a row lock on PostgreSQL, the database's write lock on SQLite (taken
    now, so what is read next is what the last writer committed). Changes nothing."""
    db.session.execute(update(Audit).where(Audit.id == audit_id).values(year=Audit.year)
                       .execution_options(synchronize_session=False))


def issued_day(moment: datetime) -> date:
    """The day an edition issued at ``moment`` is dated by (발행일), in the body's zone."""
    return dates.local(moment).date()


def _insert(audit: Audit, as_of: date, user: User, report: Report,
            staged: list[tuple[str, Any, Path]], now: datetime) -> IssuedReport:
    # Editions of the same audit for other days may finish together: one numbers at a time.
    lock_audit(audit.id)
    number = (db.session.scalar(
        select(func.max(IssuedReport.number)).where(IssuedReport.audit_id == audit.id)
    ) or 0) + 1
    issued = IssuedReport(audit=audit, number=number, as_of=as_of, issued_by=user,
                          issued_at=now, include_due_changes=report.include_due_changes)
    issued.files = [
        IssuedReportFile(
            format=fmt,
            file_name=issued_file_name(report, number, fmt),
            storage_key=stored.key,
            size=stored.size,
            sha256=stored.sha256,
            content_type=CONTENT_TYPES[fmt],
        )
        for fmt, stored, _temp in staged
    ]
    db.session.add(issued)
    try:
        db.session.flush()
    except IntegrityError as exc:  # the same number taken by a concurrent issue
        raise DomainError("다른 사용자가 같은 때에 발행했습니다. 목록을 확인한 뒤 다시 발행하세요.",
                          code="conflict", status=409) from exc
    return issued


def issued_versions(audit: Audit) -> list[IssuedReport]:
    """Every issued version of ``audit``, newest first, with files and issuer (three queries)."""
    return list(db.session.scalars(
        select(IssuedReport)
        .where(IssuedReport.audit_id == audit.id)
        .options(selectinload(IssuedReport.files), selectinload(IssuedReport.issued_by))
        .order_by(IssuedReport.number.desc())
    ))


def issued_file(audit_id: int, issued_id: int, fmt: str) -> IssuedReportFile:
    """The row of one issued version's file, its bytes checked as kept, or NotFound."""
    row = db.session.scalar(
        select(IssuedReportFile)
        .join(IssuedReport)
        .where(IssuedReport.id == issued_id, IssuedReport.audit_id == audit_id,
               IssuedReportFile.format == fmt)
    )
    if row is None:
        raise NotFound("발행된 파일을 찾을 수 없습니다.", code="issued_file_not_found")
    try:
        kept = file_store().sha256(row.storage_key)
    except FileNotFoundError:
        raise NotFound("발행된 파일이 저장소에 없습니다. 관리자에게 알려 주세요.",
                       code="issued_file_missing") from None
    if kept != row.sha256:
        # Served only as it was issued: bytes changed on disk are refused, and said.
        log.error("issued file %s (%s): bytes no longer match their SHA-256", row.id,
                  row.storage_key)
        raise DomainError("발행된 파일의 내용이 발행 때와 다릅니다(변경 감지). 내려받을 수 없으니 "
                          "관리자에게 알려 주세요.", code="issued_file_altered", status=409)
    return row


__all__ = [
    "FORMAT_LABELS",
    "IssueProgress",
    "Issued",
    "available_writers",
    "check_issue",
    "edition_label",
    "generate",
    "issue",
    "issued_day",
    "issued_file",
    "issued_versions",
    "lock_audit",
]
