"""Audits (감사 회차): created and corrected by the audit team."""

from __future__ import annotations

from datetime import date

from auditflow.errors import DomainError, Forbidden
from auditflow.extensions import db
from auditflow.models import Audit, User
from auditflow.permissions import Capability, role_names

FIELDS = ("year", "title", "body", "organisation", "received_on", "reference_date")


def _check(actor: User, title: str, audit: Audit | None = None) -> str:
    if not actor.can(Capability.MANAGE_ITEMS):
        raise Forbidden(f"감사 등록과 수정은 {role_names(Capability.MANAGE_ITEMS)}만 할 수 있습니다.")
    title = (title or "").strip()
    if not title:
        raise DomainError("감사명을 입력하세요.", code="title_required")
    taken = db.session.scalar(db.select(Audit.id).where(Audit.title == title))
    if taken and (audit is None or taken != audit.id):
        raise DomainError(f"'{title}' 감사가 이미 있습니다.", code="title_taken")
    return title


def create(actor: User, *, year: int, title: str, body: str, organisation: str,
           received_on: date | None = None, reference_date: date | None = None) -> Audit:
    audit = Audit(year=year, title=_check(actor, title), body=body.strip(),
                  organisation=organisation.strip(), received_on=received_on,
                  reference_date=reference_date)
    db.session.add(audit)
    db.session.flush()
    return audit


def update(audit: Audit, actor: User, *, year: int, title: str, body: str, organisation: str,
           received_on: date | None = None, reference_date: date | None = None) -> None:
    audit.title = _check(actor, title, audit)
    audit.year = year
    audit.body = body.strip()
    audit.organisation = organisation.strip()
    audit.received_on = received_on
    audit.reference_date = reference_date
    db.session.flush()
