"""The summary page's forms: the filter (GET, nothing changes) and 발행 (POST, CSRF)."""

from __future__ import annotations

from wtforms import BooleanField, DateField, HiddenField, SelectField
from wtforms.validators import DataRequired, InputRequired, Optional
from wtforms.widgets import HiddenInput

from auditflow.web.forms import KoreanForm, audit_choices, options


class SummaryFilterForm(KoreanForm):
    class Meta(KoreanForm.Meta):
        csrf = False

    audit = SelectField("감사", validators=[Optional()])
    as_of = DateField("기준일", validators=[Optional()], render_kw={"type": "date"})
    due_changes = BooleanField("인쇄용 보고서·PDF에 기한 변경 내역 포함")
    # Sent with the form only: a link without it keeps the section on (the default).
    chosen = HiddenField(default="1")

    def fill_choices(self) -> None:
        self.audit.choices = options((str(audit_id), title) for audit_id, title in audit_choices())


class IssueForm(KoreanForm):
    as_of = DateField("기준일", widget=HiddenInput(),
                      validators=[InputRequired(message="발행할 기준일이 없습니다.")])
    due_changes = HiddenField(default="1")  # the page's choice: "0" leaves the section out
    confirm = BooleanField(
        "발행한 보고서는 고치거나 지울 수 없음을 확인했습니다.",
        validators=[DataRequired(message="발행하려면 확인란에 표시하세요.")],
    )


class VerifyForm(KoreanForm):
    """검증 of one issued edition: nothing to fill in; the page's day to come back to."""

    as_of = DateField("기준일", widget=HiddenInput(), validators=[Optional()])


class CompareForm(KoreanForm):
    """Two editions of the audit to compare (GET, nothing changes)."""

    class Meta(KoreanForm.Meta):
        csrf = False

    older = SelectField("앞 판", validators=[InputRequired(message="비교할 앞 판을 고르세요.")])
    newer = SelectField("뒤 판", validators=[InputRequired(message="비교할 뒤 판을 고르세요.")])


class DownloadForm(KoreanForm):
    """A large file, made by the worker: the format (the value of the button pressed, one
    per format over the one form), the day and the choice of the page."""

    fmt = HiddenField(validators=[InputRequired(message="만들 형식이 없습니다.")])
    as_of = DateField("기준일", widget=HiddenInput(),
                      validators=[InputRequired(message="기준일이 없습니다.")])
    due_changes = HiddenField(default="1")
