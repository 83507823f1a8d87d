from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from auditflow.extensions import Model
from auditflow.models.base import UTCDateTime, utcnow


class Audit(Model):
    """One round of the council's audit, e.g. 2025 행정사무감사."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    title: Mapped[str] = mapped_column(String(200), unique=True)
    body: Mapped[str] = mapped_column(String(200))  # 감사 기관, e.g. 서울특별시의회
    organisation: Mapped[str] = mapped_column(String(200))  # 수감 기관, e.g. 서울AI재단
    received_on: Mapped[date | None]
    reference_date: Mapped[date | None]  # 기준일 of the report
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Audit {self.year} {self.title}>"
