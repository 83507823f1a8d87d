"""The token page's forms: a new token, and the revoke button."""

from __future__ import annotations

from wtforms import IntegerField, RadioField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from auditflow.services.tokens import MAX_DAYS, NAME_MAX
from auditflow.vocabulary import TokenScope
from auditflow.web.forms import KoreanForm, options


class NewTokenForm(KoreanForm):
    name = StringField("토큰 이름(용도)", validators=[
        DataRequired(message="토큰 이름을 입력하세요."), Length(max=NAME_MAX)])
    # One of the two is always chosen (read by default); RadioField refuses anything else.
    scope = RadioField("권한 범위", choices=options((scope.value, scope.label) for scope in TokenScope),
                       default=TokenScope.READ.value)
    days = IntegerField("유효 기간(일)", default=90, validators=[
        InputRequired(message="유효 기간을 입력하세요."),
        NumberRange(min=1, max=MAX_DAYS, message=f"1일에서 {MAX_DAYS}일 사이로 입력하세요.")])


class RevokeForm(KoreanForm):
    """A button: the CSRF token, nothing else."""
