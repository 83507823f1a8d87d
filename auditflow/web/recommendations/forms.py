from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from auditflow.extensions import db
from auditflow.models import OrgUnit
from auditflow.vocabulary import Category, State
from auditflow.web import parts
from auditflow.web.forms import KoreanForm, MultiCheckboxField, VersionedForm, options

NO_TEAM = 0


def team_choices() -> list[tuple[int, str]]:
    """Teams and task forces: recommendations are never assigned to a whole division
    (read once per request, however many forms of the page list them: ``web.parts.state``)."""
    return list(parts.state().teams)


CATEGORY_CHOICES = [(category.value, category.label) for category in Category]
STATE_CHOICES = [(state.value, state.label) for state in State]


class TeamsMixin:
    def fill_team_choices(self) -> None:
        choices = team_choices()
        self.lead_team.choices = options([(NO_TEAM, "미지정"), *choices])  # type: ignore[attr-defined]
        self.supporting_teams.choices = options(choices)  # type: ignore[attr-defined]

    def selected_teams(self) -> tuple[OrgUnit | None, list[OrgUnit]]:
        lead_id = self.lead_team.data or NO_TEAM  # type: ignore[attr-defined]
        lead = db.session.get(OrgUnit, lead_id) if lead_id != NO_TEAM else None
        ids = [i for i in (self.supporting_teams.data or []) if i != lead_id]  # type: ignore[attr-defined]
        supporting = list(db.session.scalars(db.select(OrgUnit).where(OrgUnit.id.in_(ids)))) if ids else []
        return lead, supporting


class RegisterForm(TeamsMixin, KoreanForm):
    audit = SelectField("감사", coerce=int, validators=[InputRequired()])
    number = IntegerField("번호", validators=[InputRequired(), NumberRange(min=1, message="번호는 1 이상이어야 합니다.")])
    category = SelectField("구분", choices=options(CATEGORY_CHOICES), validators=[InputRequired()])
    council_text = TextAreaField("요구사항 내용", validators=[DataRequired(message="요구사항 내용을 입력하세요.")])
    lead_team = SelectField("주관 부서", coerce=int, validators=[Optional()])
    supporting_teams = MultiCheckboxField("협조 부서", coerce=int, validators=[Optional()])
    due_date = DateField("처리 기한", validators=[Optional()])


class EditTextForm(VersionedForm):
    category = SelectField("구분", choices=options(CATEGORY_CHOICES), validators=[InputRequired()])
    council_text = TextAreaField("요구사항 내용", validators=[DataRequired(message="요구사항 내용을 입력하세요.")])
    reason = TextAreaField("수정 사유", validators=[DataRequired(message="수정 사유를 입력하세요."), Length(max=2000)])


class AssignForm(TeamsMixin, VersionedForm):
    lead_team = SelectField("주관 부서", coerce=int, validators=[Optional()])
    supporting_teams = MultiCheckboxField("협조 부서", coerce=int, validators=[Optional()])
    reason = TextAreaField("변경 사유", validators=[Optional(), Length(max=2000)])


class DueDateForm(VersionedForm):
    due_date = DateField("처리 기한", validators=[Optional()])
    reason = TextAreaField("변경 사유", validators=[Optional(), Length(max=2000)])


class ResultForm(VersionedForm):
    action_details = TextAreaField("추진내용", validators=[Optional()], render_kw={"rows": 14})
    future_plan = TextAreaField("향후계획", validators=[Optional()], render_kw={"rows": 6})


class ActionForm(VersionedForm):
    reason = TextAreaField("사유", validators=[Optional(), Length(max=2000)])
    confirm = BooleanField("확인했습니다")


class ExtensionRequestForm(VersionedForm):
    requested_due = DateField("새 처리 기한", validators=[DataRequired("새 처리 기한을 입력하세요.")])
    reason = TextAreaField("연장이 필요한 사유", validators=[
        DataRequired("연장이 필요한 사유를 입력하세요."), Length(max=2000)])


class TransferRequestForm(VersionedForm):
    to_team = SelectField("이관받을 부서", coerce=int, validators=[
        InputRequired("이관받을 부서를 고르세요.")])
    reason = TextAreaField("이관이 필요한 사유", validators=[
        DataRequired("이관이 필요한 사유를 입력하세요."), Length(max=2000)])

    def fill_team_choices(self, lead_team_id: int | None) -> None:
        self.to_team.choices = options([(NO_TEAM, "부서를 고르세요"), *(
            (team_id, name) for team_id, name in team_choices() if team_id != lead_team_id)])


class BulkForm(TeamsMixin, KoreanForm):
    """One change for the chosen items of the list (the items are the ``ids`` checkboxes)."""

    action = SelectField("일괄 작업", choices=options([("assign", "담당 부서 지정"),
                                                  ("due_date", "처리 기한 지정"),
                                                  ("approve", "승인(완료): 검토 중인 요구사항")]),
                         validators=[InputRequired("일괄 작업을 고르세요.")])
    lead_team = SelectField("주관 부서", coerce=int, validators=[Optional()])
    supporting_teams = MultiCheckboxField("협조 부서", coerce=int, validators=[Optional()])
    due_date = DateField("처리 기한", validators=[Optional()])
    reason = TextAreaField("사유(모든 요구사항의 이력에 남습니다)", validators=[Optional(), Length(max=2000)])
    all_matching = BooleanField("검색 조건에 맞는 요구사항 전체에 적용")
    confirm = BooleanField("고른 요구사항 모두에 적용하는 것을 확인했습니다.",
                           validators=[DataRequired("일괄 처리하려면 확인란에 표시하세요.")])


class CommentForm(KoreanForm):
    body = TextAreaField("의견", validators=[DataRequired(message="의견을 입력하세요."), Length(max=5000)])


class FilterForm(KoreanForm):
    """The list's filters, read from the query string (GET: no CSRF, nothing changes)."""

    class Meta(KoreanForm.Meta):
        csrf = False

    audit = SelectField("감사", coerce=str, validators=[Optional()])
    category = SelectField("구분", validators=[Optional()])
    state = SelectField("상태", validators=[Optional()])
    team = SelectField("부서", coerce=str, validators=[Optional()])
    overdue = BooleanField("기한 경과만")
    q = StringField("검색어", validators=[Optional(), Length(max=200)])
