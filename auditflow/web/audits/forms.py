from __future__ import annotations

from wtforms import DateField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from auditflow.web.forms import KoreanForm


class AuditForm(KoreanForm):
    year = IntegerField("감사 연도", validators=[InputRequired(), NumberRange(min=2000, max=2100, message="연도를 2000~2100 사이로 입력하세요.")])
    title = StringField("감사명", validators=[DataRequired(message="감사명을 입력하세요."), Length(max=200)])
    body = StringField("감사 기관", validators=[DataRequired(message="감사 기관을 입력하세요."), Length(max=200)])
    organisation = StringField("수감 기관", validators=[DataRequired(message="수감 기관을 입력하세요."), Length(max=200)])
    received_on = DateField("접수일", validators=[Optional()])
    reference_date = DateField("보고 기준일", validators=[Optional()])
