"""The filters of the status pages, read from the query string (GET: no CSRF, nothing changes)."""

from __future__ import annotations

from wtforms import BooleanField, DateField, SelectField
from wtforms.validators import Optional

from auditflow.extensions import db
from auditflow.models import OrgUnit
from auditflow.vocabulary import UnitKind
from auditflow.web.forms import KoreanForm, audit_choices, options

ALL_AUDITS = "all"


def _audit_choices() -> list[tuple[str, str]]:
    return [(str(audit_id), title) for audit_id, title in audit_choices()]


def _team_choices() -> list[tuple[str, str]]:
    units = db.session.scalars(
        db.select(OrgUnit).where(OrgUnit.kind != UnitKind.DIVISION.value)
        .order_by(OrgUnit.sort_order, OrgUnit.name)
    )
    return [(str(unit.id), unit.name) for unit in units]


class _GetForm(KoreanForm):
    class Meta(KoreanForm.Meta):
        csrf = False


class TeamsFilterForm(_GetForm):
    audit = SelectField("범위", validators=[Optional()])
    as_of = DateField("기준일", validators=[Optional()], render_kw={"type": "date"})

    def fill_choices(self) -> None:
        self.audit.choices = options([*_audit_choices(), (ALL_AUDITS, "전체 감사의 미완료 요구사항")])


class OpenItemsFilterForm(_GetForm):
    audit = SelectField("감사", validators=[Optional()])
    team = SelectField("주관 부서", validators=[Optional()])
    supporting = BooleanField("협조 부서로 참여한 건 포함")
    overdue = BooleanField("기한 경과만")

    def fill_choices(self) -> None:
        self.audit.choices = options([("", "전체 감사"), *_audit_choices()])
        self.team.choices = options([("", "전체 부서"), *_team_choices()])
