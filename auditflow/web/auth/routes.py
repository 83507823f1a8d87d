"""Sign in, sign out, change one's own password.

Thin views: the form is validated here, the rules live in ``auditflow.auth``.
A refused sign-in answers 200 with the message, so the request commits the
attempt and the failure count.
"""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from auditflow.http import navigation, sessions
from auditflow.http.access import actor, require
from auditflow.models import AccessKind
from auditflow.services import accounts, signin
from auditflow.services.access_log import record_access
from auditflow.web.auth.forms import ChangePasswordForm, LoginForm

bp = Blueprint("auth", __name__)

PASSWORD_RULE = (
    "영문·숫자·특수문자 중 3종류 이상으로 9자 이상, 또는 2종류 이상으로 10자 이상"
)


def _home() -> str:
    return request.script_root + "/"


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    target = navigation.safe_next(request.args.get("next"), _home())
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(target)
    form = LoginForm()
    refusal = None
    if form.validate_on_submit():
        try:
            user = signin.authenticate(form.login.data, form.password.data, request.remote_addr)
        except signin.SignInRefused as refused:
            refusal = refused.message
        else:
            sessions.start(user)
            return redirect(target, code=303)
    return render_template("auth/login.html", form=form, refusal=refusal,
                           max_failures=signin.max_failures(), lock_minutes=signin.lock_minutes())


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    # POST only (with the CSRF token CSRFProtect checks): a link or an image
    # pointing at /logout cannot sign anyone out.
    if current_user.is_authenticated:
        record_access(AccessKind.SIGN_OUT)
    sessions.end()
    flash("로그아웃되었습니다.", "info")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/account/password", methods=["GET", "POST"])
@require()
def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = actor()
        try:
            accounts.change_own_password(user, form.current_password.data,
                                         form.new_password.data, request.remote_addr)
        except accounts.AccountError as refused:
            getattr(form, refused.field or "", form.current_password).errors.append(refused.message)
        else:
            sessions.renew(user)
            flash("비밀번호를 변경했습니다. 다른 곳에서 로그인한 세션은 모두 종료되었습니다.",
                  "success")
            return redirect(url_for("auth.change_password"), code=303)
    return render_template("auth/change_password.html", form=form, rule=PASSWORD_RULE)


@bp.post("/account/session")
@require()
def keep_alive() -> ResponseReturnValue:
    """'로그인 유지': this request itself renewed the idle limit; say how long the session has now."""
    return jsonify(seconds_left=sessions.seconds_left())
