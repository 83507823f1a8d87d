"""User administration forms. Choices come from the Role enum and the organisation table."""

from __future__ import annotations

from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from auditflow.services import accounts
from auditflow.vocabulary import Role
from auditflow.web.forms import KoreanForm, options

NO_TEAM = ""


def role_choices() -> list[tuple[str, str]]:
    return [(role.value, role.label) for role in Role]


def team_choices() -> list[tuple[str, str]]:
    choices = [(NO_TEAM, "(소속 없음)")]
    for unit in accounts.assignable_teams():
        parent = f"{unit.parent.name} " if unit.parent else ""
        choices.append((unit.code, f"{parent}{unit.name}"))
    return choices


class _UserFields(KoreanForm):
    name = StringField("이름", validators=[DataRequired("이름을 입력하세요."), Length(max=100)])
    # The operation checks role and team and says what is wrong (e.g. "본부는 …").
    role = SelectField("역할", choices=[], validate_choice=False)
    team = SelectField("소속 팀", choices=[], validate_choice=False)
    email = StringField("메일 주소", validators=[Length(max=254)],
                        render_kw={"autocomplete": "off", "inputmode": "email",
                                   "spellcheck": "false"})
    is_manager = BooleanField("팀 관리자 (기한이 오래 지난 건을 보고받음)")

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.role.choices = options(role_choices())
        self.team.choices = options(team_choices())


class PasswordPair:
    password = PasswordField("비밀번호", validators=[DataRequired("비밀번호를 입력하세요.")],
                             render_kw={"autocomplete": "new-password"})
    password_confirm = PasswordField(
        "비밀번호 확인",
        validators=[DataRequired("비밀번호를 한 번 더 입력하세요."),
                    EqualTo("password", "비밀번호가 서로 다릅니다. 같게 입력하세요.")],
        render_kw={"autocomplete": "new-password"})


class UserCreateForm(_UserFields, PasswordPair):
    login = StringField("아이디", validators=[DataRequired("아이디를 입력하세요."), Length(max=64)],
                        render_kw={"autocomplete": "off", "autocapitalize": "none",
                                   "spellcheck": "false"})
    submit = SubmitField("사용자 등록")


class UserEditForm(_UserFields):
    submit = SubmitField("저장")


class PasswordResetForm(KoreanForm, PasswordPair):
    submit = SubmitField("비밀번호 재설정")


class ActiveForm(KoreanForm):
    confirm = BooleanField("위 내용을 확인했습니다.",
                           validators=[DataRequired("확인란을 선택해야 진행합니다.")])
    submit = SubmitField("확인")


class SecondFactorResetForm(KoreanForm):
    confirm = BooleanField("본인 확인을 거쳐 요청받았음을 확인했습니다.",
                           validators=[DataRequired("확인란을 선택해야 진행합니다.")])
    submit = SubmitField("2단계 인증 초기화")


class UnlockForm(KoreanForm):
    """Only the CSRF token: the user comes from the URL."""

    submit = SubmitField("잠금 해제")
