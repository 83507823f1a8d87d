"""Sign-in and own-password forms (CSRF-protected, Korean messages)."""

from __future__ import annotations

from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo

from auditflow.web.forms import KoreanForm


class LoginForm(KoreanForm):
    login = StringField("아이디", validators=[DataRequired("아이디를 입력하세요.")],
                        render_kw={"autocomplete": "username", "autocapitalize": "none",
                                   "spellcheck": "false"})
    password = PasswordField("비밀번호", validators=[DataRequired("비밀번호를 입력하세요.")],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField("로그인")


class ChangePasswordForm(KoreanForm):
    current_password = PasswordField(
        "현재 비밀번호", validators=[DataRequired("현재 비밀번호를 입력하세요.")],
        render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(
        "새 비밀번호", validators=[DataRequired("새 비밀번호를 입력하세요.")],
        render_kw={"autocomplete": "new-password"})
    new_password_confirm = PasswordField(
        "새 비밀번호 확인",
        validators=[DataRequired("새 비밀번호를 한 번 더 입력하세요."),
                    EqualTo("new_password", "새 비밀번호가 서로 다릅니다. 같게 입력하세요.")],
        render_kw={"autocomplete": "new-password"})
    submit = SubmitField("비밀번호 변경")
