from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from auditflow.web.forms import KoreanForm, options
from auditflow.web.recommendations.forms import team_choices


class AuditForm(KoreanForm):
    year = IntegerField("감사 연도", validators=[InputRequired(), NumberRange(min=2000, max=2100, message="연도를 2000~2100 사이로 입력하세요.")])
    title = StringField("감사명", validators=[DataRequired(message="감사명을 입력하세요."), Length(max=200)])
    body = StringField("감사 기관", validators=[DataRequired(message="감사 기관을 입력하세요."), Length(max=200)])
    organisation = StringField("수감 기관", validators=[DataRequired(message="수감 기관을 입력하세요."), Length(max=200)])
    received_on = DateField("접수일", validators=[Optional()])
    reference_date = DateField("보고 기준일", validators=[Optional()])


class ImportUploadForm(KoreanForm):
    file = FileField("가져올 파일(XLSX·HWPX)",
                     validators=[FileRequired("가져올 엑셀(XLSX) 파일이나 한글(HWPX) 문서를 고르세요.")])
    # A HWPX report names no teams: the importer says who leads the items it brings.
    lead_team = SelectField("주관 부서가 적혀 있지 않은 요구사항의 주관 부서", coerce=int,
                            validators=[Optional()])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.lead_team.choices = options([(0, "지정하지 않음 (나중에 지정)"), *team_choices()])


class ImportConfirmForm(KoreanForm):
    sealed = HiddenField(validators=[DataRequired()])
    confirm = BooleanField("미리 보기의 내용대로 가져오는 것을 확인했습니다.",
                           validators=[DataRequired("가져오려면 확인란에 표시하세요.")])
