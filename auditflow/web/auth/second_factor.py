"""The second factor's pages: the sign-in's code step, enrolment, recovery codes, 본인 확인.

Sign-in (``routes.after_password``) sends a user whose password was right here when
``second_factor.asked``: ``second_step`` takes the app's code or a recovery code,
``enrol_at_sign_in`` enrols an authenticator app first (a user who must have one and
has none). Signed in, ``/account/second-factor`` shows the state, enrols (anyone may)
and makes new recovery codes. ``confirm`` is the 본인 확인 page of ``http.reauth``.
A user who must have a second factor and has none (the setting turned on while they
were signed in) is sent to enrolment from every page.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from auditflow.errors import DomainError, Forbidden
from auditflow.http import reauth
from auditflow.http.access import actor, require
from auditflow.http.errors import wants_json
from auditflow.http.tokens import api_token
from auditflow.models import User
from auditflow.services import accounts, second_factor, signin
from auditflow.web.auth import pending
from auditflow.web.auth.forms import ConfirmForm, EnrolForm, RecoveryCodesForm, SecondFactorForm
from auditflow.web.auth.routes import bp, finish_sign_in, start_session

EXPIRED = "로그인 시간이 지났습니다. 아이디와 비밀번호를 다시 입력하세요."
ENROL_FIRST = "이 계정은 2단계 인증을 등록해야 사용할 수 있습니다. 인증 앱을 등록하세요."
# Pages a user who must still enrol may open (besides static files).
ENROLMENT_OPEN = frozenset({"auth.enrol", "auth.confirm", "auth.logout", "auth.keep_alive",
                            "auth.login", "auth.second_step", "auth.enrol_at_sign_in"})


def _home() -> str:
    return request.script_root + "/"


def _restart() -> ResponseReturnValue:
    flash(EXPIRED, "warning")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/login/code", methods=["GET", "POST"])
def second_step() -> ResponseReturnValue:
    step = pending.current()
    if step is None or not step.user.has_second_factor:
        return _restart()
    form = SecondFactorForm()
    refusal = None
    if form.validate_on_submit():
        if not form.given():
            refusal = "인증 앱에 표시된 6자리 숫자나 복구 코드를 입력하세요."
        else:
            try:
                method = second_factor.verify(step.user, form.given(), request.remote_addr)
            except DomainError as refused:
                refusal = refused.message
            else:
                signed_in = finish_sign_in(step.user, step.target or _home())
                if method == "recovery":
                    _recovery_used(step.user)  # after sign-in, which empties the session
                return signed_in
    return render_template("auth/second_step.html", form=form, refusal=refusal,
                           max_failures=signin.max_failures())


def _recovery_used(user: User) -> None:
    left = second_factor.recovery_codes_left(user)
    flash(f"복구 코드로 로그인했습니다. 남은 복구 코드는 {left}개입니다. 인증 앱을 잃어버렸다면 "
          "시스템 관리자에게 2단계 인증 초기화를 요청하고, '2단계 인증'에서 복구 코드를 새로 만드세요.",
          "warning")


@bp.route("/login/enrol", methods=["GET", "POST"])
def enrol_at_sign_in() -> ResponseReturnValue:
    step = pending.current()
    if step is None or step.user.has_second_factor:
        return _restart()
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            codes = second_factor.confirm_enrolment(step.user, form.code.data, request.remote_addr)
        except DomainError as refused:
            form.code.errors = [*form.code.errors, refused.message]
        else:
            target = step.target or _home()
            start_session(step.user)
            return render_template("auth/recovery_codes.html", codes=codes, target=target,
                                   enrolled=True)
    enrolment = second_factor.begin_enrolment(step.user)
    return render_template("auth/enrol.html", form=form, enrolment=enrolment,
                           at_sign_in=True, required=second_factor.required(step.user))


@bp.get("/account/second-factor")
@require()
def second_factor_page() -> ResponseReturnValue:
    user = actor()
    return render_template("auth/second_factor.html", user=user,
                           required=second_factor.required(user),
                           left=second_factor.recovery_codes_left(user),
                           codes_form=RecoveryCodesForm())


@bp.route("/account/second-factor/enrol", methods=["GET", "POST"])
@require()
@reauth.recent_confirmation
def enrol() -> ResponseReturnValue:
    user = actor()
    if user.has_second_factor:
        flash(second_factor.AlreadyEnrolled.message, "info")
        return redirect(url_for("auth.second_factor_page"), code=303)
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            codes = second_factor.confirm_enrolment(user, form.code.data, request.remote_addr)
        except second_factor.NotEnrolled:
            # No enrolment begun (its page was never opened): to the page, which begins one.
            flash("등록을 처음부터 시작합니다. 화면의 QR 코드를 인증 앱으로 읽은 뒤 "
                  "표시된 6자리 숫자를 입력하세요.", "error")
            return redirect(url_for("auth.enrol"), code=303)
        except DomainError as refused:
            form.code.errors = [*form.code.errors, refused.message]
        else:
            return render_template("auth/recovery_codes.html", codes=codes,
                                   target=url_for("auth.second_factor_page"), enrolled=True)
    enrolment = second_factor.begin_enrolment(user)
    return render_template("auth/enrol.html", form=form, enrolment=enrolment, at_sign_in=False,
                           required=second_factor.required(user))


@bp.post("/account/second-factor/recovery-codes")
@require()
@reauth.recent_confirmation
def new_recovery_codes() -> ResponseReturnValue:
    user = actor()
    form = RecoveryCodesForm()
    if not form.validate_on_submit() or not user.has_second_factor:
        flash("복구 코드를 만들 수 없습니다. 2단계 인증을 먼저 등록하세요.", "error")
        return redirect(url_for("auth.second_factor_page"), code=303)
    codes = second_factor.new_recovery_codes(user)
    second_factor.record("recovery_codes_renewed", user, actor=user)
    return render_template("auth/recovery_codes.html", codes=codes,
                           target=url_for("auth.second_factor_page"), enrolled=False)


@bp.route("/account/confirm", methods=["GET", "POST"])
@require()
def confirm() -> ResponseReturnValue:
    """본인 확인: the password again (and the code when enrolled), then back to the work."""
    user = actor()
    target = reauth.back_to(request.args.get("next"), _home())
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            accounts.confirm_identity(user, form.password.data, form.given_code(),
                                      request.remote_addr)
        except accounts.AccountError as refused:
            field = getattr(form, refused.field or "", None) or form.password
            field.errors = [*field.errors, refused.message]
        else:
            reauth.mark_confirmed()
            return redirect(target, code=303)
    return render_template("auth/confirm.html", form=form, user=user,
                           minutes=reauth.minutes())


@bp.before_app_request
def _enrolment_first() -> ResponseReturnValue | None:
    """A signed-in user who must have a second factor and has none enrols before anything else."""
    endpoint = request.endpoint or ""
    if (endpoint in ENROLMENT_OPEN or endpoint == "static" or endpoint.endswith(".static")
            or not current_user.is_authenticated or not isinstance(
                current_user._get_current_object(), User)):
        return None
    user = current_user._get_current_object()
    if user.has_second_factor or not second_factor.required(user):
        return None
    if wants_json():
        if api_token() is not None:
            return None  # a personal access token: made by its user, revoked by them
        raise Forbidden(ENROL_FIRST, code="second_factor_required")
    flash(ENROL_FIRST, "warning")
    return redirect(url_for("auth.enrol"), code=303)
