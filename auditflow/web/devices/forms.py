"""The device page's forms: end one other session, end all the others (confirmed)."""

from __future__ import annotations

from wtforms import BooleanField
from wtforms.validators import DataRequired

from auditflow.web.forms import KoreanForm


class EndOneForm(KoreanForm):
    """A button: the CSRF token, nothing else (the session comes from the URL)."""


class EndOthersForm(KoreanForm):
    confirm = BooleanField("다른 기기의 로그인을 모두 종료하는 것을 확인했습니다.",
                           validators=[DataRequired("종료하려면 확인란을 선택하세요.")])
