from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, HiddenField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from auditflow.web.forms import KoreanForm


class AuditForm(KoreanForm):
    year = IntegerField("감사 연도", validators=[InputRequired(), NumberRange(min=2000, max=2100, message="연도를 2000~2100 사이로 입력하세요.")])
    title = StringField("감사명", validators=[DataRequired(message="감사명을 입력하세요."), Length(max=200)])
    body = StringField("감사 기관", validators=[DataRequired(message="감사 기관을 입력하세요."), Length(max=200)])
    organisation = StringField("수감 기관", validators=[DataRequired(message="수감 기관을 입력하세요."), Length(max=200)])
    received_on = DateField("접수일", validators=[Optional()])
    reference_date = DateField("보고 기준일", validators=[Optional()])


class ImportUploadForm(KoreanForm):
    file = FileField("가져올 파일(XLSX)", validators=[FileRequired("가져올 엑셀(XLSX) 파일을 고르세요.")])


class ImportConfirmForm(KoreanForm):
    sealed = HiddenField(validators=[DataRequired()])
    confirm = BooleanField("미리 보기의 내용대로 가져오는 것을 확인했습니다.",
                           validators=[DataRequired("가져오려면 확인란에 표시하세요.")])
