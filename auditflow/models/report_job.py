"""A report the worker makes for the summary page: an edition (발행), one large download, or
the check of an issued edition (검증).

The page asks for it (``services.report_jobs``), the worker makes it (``auditflow.jobs``)
and writes its progress here in short transactions of its own, so the page can show it:
which formats, how many are done, the one at work and how many items it has written.

The database keeps the rules that matter when two people click at once: one active
(queued or running) edition per audit and reference day, one active download per audit,
day, format and choice, so a second click joins the job the first one started. A done
edition names its ``IssuedReport``, a done download its stored file, a done check its
outcome file by file (one active check per edition), a failed job says why in Korean.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditflow.extensions import Model
from auditflow.models.audit import Audit
from auditflow.models.base import UTCDateTime, sql_in, utcnow
from auditflow.models.issued import IssuedReport
from auditflow.models.user import User
from auditflow.vocabulary import ACTIVE_JOB_STATES, ReportJobKind, ReportJobState

_ACTIVE = f"state IN ({sql_in(ACTIVE_JOB_STATES)})"


class ReportJob(Model):
    __tablename__ = "report_job"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_in(ReportJobKind)})", name="ck_report_job_kind"),
        CheckConstraint(f"state IN ({sql_in(ReportJobState)})", name="ck_report_job_state"),
        CheckConstraint("kind <> 'download' OR format IS NOT NULL", name="ck_report_job_format"),
        CheckConstraint("kind <> 'verify' OR issued_report_id IS NOT NULL",
                        name="ck_report_job_verified"),
        CheckConstraint("state <> 'done' OR kind <> 'issue' OR issued_report_id IS NOT NULL",
                        name="ck_report_job_issued"),
        CheckConstraint("state <> 'done' OR kind <> 'download' OR file_key IS NOT NULL",
                        name="ck_report_job_file"),
        CheckConstraint("state <> 'failed' OR error IS NOT NULL", name="ck_report_job_error"),
        CheckConstraint(f"{_ACTIVE} OR finished_at IS NOT NULL", name="ck_report_job_finished"),
        CheckConstraint("done >= 0 AND total >= 0 AND formats_done >= 0 AND attempts >= 0",
                        name="ck_report_job_counts"),
        Index("uq_report_job_issue_active", "audit_id", "as_of", unique=True,
              sqlite_where=text(f"kind = 'issue' AND {_ACTIVE}"),
              postgresql_where=text(f"kind = 'issue' AND {_ACTIVE}")),
        Index("uq_report_job_download_active", "audit_id", "as_of", "format",
              "include_due_changes", unique=True,
              sqlite_where=text(f"kind = 'download' AND {_ACTIVE}"),
              postgresql_where=text(f"kind = 'download' AND {_ACTIVE}")),
        Index("uq_report_job_verify_active", "issued_report_id", unique=True,
              sqlite_where=text(f"kind = 'verify' AND {_ACTIVE}"),
              postgresql_where=text(f"kind = 'verify' AND {_ACTIVE}")),
        Index("ix_report_job_state", "state", "heartbeat_at"),
        Index("ix_report_job_audit", "audit_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit.id"))
    as_of: Mapped[date]
    include_due_changes: Mapped[bool] = mapped_column(Boolean, default=True)
    format: Mapped[str | None] = mapped_column(String(10))  # a download's one format
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    state: Mapped[str] = mapped_column(String(10), default=ReportJobState.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)  # times a worker has taken it
    # Progress: the formats being made (in order), how many are finished, the one at work
    # and the items it has written of the report's items.
    formats: Mapped[str] = mapped_column(String(60), default="")
    formats_done: Mapped[int] = mapped_column(default=0)
    current_format: Mapped[str | None] = mapped_column(String(10))
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    missing: Mapped[str] = mapped_column(String(60), default="")  # formats with no writer
    error: Mapped[str | None] = mapped_column(Text)  # in Korean, for the page
    # The edition an issue job made, or the one a verify job checks (from its start).
    issued_report_id: Mapped[int | None] = mapped_column(ForeignKey("issued_report.id"))
    # A verify job's outcome, file by file (services.verification.Verification as JSON).
    verification: Mapped[str | None] = mapped_column(Text)
    file_key: Mapped[str | None] = mapped_column(String(64))
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_size: Mapped[int | None]
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    audit: Mapped[Audit] = relationship()
    requested_by: Mapped[User] = relationship()
    issued_report: Mapped[IssuedReport | None] = relationship()

    @property
    def kind_enum(self) -> ReportJobKind:
        return ReportJobKind(self.kind)

    @property
    def state_enum(self) -> ReportJobState:
        return ReportJobState(self.state)

    @property
    def active(self) -> bool:
        return self.state_enum in ACTIVE_JOB_STATES

    @property
    def format_list(self) -> list[str]:
        return [fmt for fmt in self.formats.split(",") if fmt]

    @property
    def missing_list(self) -> list[str]:
        return [fmt for fmt in self.missing.split(",") if fmt]
