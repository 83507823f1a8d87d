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


_CODE_ATTRS = {"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*",
               "maxlength": "8", "autocapitalize": "none", "spellcheck": "false"}
_RECOVERY_ATTRS = {"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false",
                   "maxlength": "20"}


class SecondFactorForm(KoreanForm):
    """The sign-in's second step: the app's code, or (for a lost phone) a recovery code."""

    code = StringField("인증 코드 (6자리 숫자)", render_kw=_CODE_ATTRS)
    recovery_code = StringField("복구 코드", render_kw=_RECOVERY_ATTRS)
    submit = SubmitField("확인")

    def given(self) -> str:
        return (self.code.data or "").strip() or (self.recovery_code.data or "").strip()


class EnrolForm(KoreanForm):
    code = StringField("인증 앱에 표시된 6자리 숫자",
                       validators=[DataRequired("인증 앱에 표시된 6자리 숫자를 입력하세요.")],
                       render_kw=_CODE_ATTRS)
    submit = SubmitField("등록 완료")


class ConfirmForm(KoreanForm):
    """본인 확인: the password again, and the second factor's code when one is enrolled."""

    password = PasswordField("비밀번호", validators=[DataRequired("비밀번호를 입력하세요.")],
                             render_kw={"autocomplete": "current-password"})
    code = StringField("인증 코드 (6자리 숫자)", render_kw=_CODE_ATTRS)
    recovery_code = StringField("복구 코드", render_kw=_RECOVERY_ATTRS)
    submit = SubmitField("확인")

    def given_code(self) -> str:
        return (self.code.data or "").strip() or (self.recovery_code.data or "").strip()


class RecoveryCodesForm(KoreanForm):
    """Only the CSRF token: new recovery codes for oneself."""

    submit = SubmitField("복구 코드 새로 만들기")
