from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditflow.extensions import Model
from auditflow.models.audit import Audit
from auditflow.models.base import AppendOnly, UTCDateTime, utcnow
from auditflow.models.chain import Chained
from auditflow.models.user import User


class IssuedReport(AppendOnly, Chained, Model):
    """A report as it was sent to the council (발행): numbered, dated, never changed."""

    __tablename__ = "issued_report"
    append_only_message = "issued reports are never changed"
    chain_label = "발행본"
    __table_args__ = (
        UniqueConstraint("audit_id", "number", name="uq_issued_report_audit_number"),
        CheckConstraint("number > 0", name="ck_issued_report_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit.id"))
    number: Mapped[int]  # running number within the audit: 제1판, 제2판, ...
    as_of: Mapped[date]
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The page's choice the edition was made with (기한 변경 내역 in the printable report and
    # PDF): with the audit, the reference date and the day of issue, all a regeneration needs.
    include_due_changes: Mapped[bool] = mapped_column(Boolean, default=True,
                                                      server_default=true())

    audit: Mapped[Audit] = relationship()
    issued_by: Mapped[User] = relationship()
    files: Mapped[list[IssuedReportFile]] = relationship(
        back_populates="report", order_by="IssuedReportFile.id"
    )


class IssuedReportFile(AppendOnly, Chained, Model):
    __tablename__ = "issued_report_file"
    append_only_message = "issued reports are never changed"
    chain_label = "발행 파일"
    __table_args__ = (
        UniqueConstraint("report_id", "format", name="uq_issued_report_file_format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("issued_report.id"))
    format: Mapped[str] = mapped_column(String(10))  # html, pdf, hwpx, xlsx, csv
    file_name: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(100))

    report: Mapped[IssuedReport] = relationship(back_populates="files")
