"""Sign in, sign out, change one's own password.

Thin views: the form is validated here, the rules live in ``auditflow.auth``.
A refused sign-in answers 200 with the message, so the request commits the
attempt and the failure count.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from auditflow.http import navigation, sessions, throttle
from auditflow.http.access import actor, require
from auditflow.models import AccessKind, User
from auditflow.services import accounts, passwords, second_factor, signin
from auditflow.services.access_log import record_access
from auditflow.web.auth import pending
from auditflow.web.auth.forms import ChangePasswordForm, LoginForm

bp = Blueprint("auth", __name__)

PASSWORD_RULE = passwords.RULE_HINT


def _home() -> str:
    return request.script_root + "/"


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    target = navigation.safe_next(request.args.get("next"), _home())
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(target)
    if request.method == "POST":
        throttle.sign_in()  # per address, before anything is checked
    form = LoginForm()
    refusal, status = None, 200
    if form.validate_on_submit():
        try:
            user = signin.authenticate(form.login.data, form.password.data, request.remote_addr)
            if second_factor.asked(user):
                second_factor.refuse_if_locked(user, request.remote_addr)
        except signin.SignInRefused as refused:
            refusal = refused.message
        except passwords.HashingBusy as busy:
            refusal, status = busy.message, busy.status
        else:
            return after_password(user, target)
    return render_template("auth/login.html", form=form, refusal=refusal,
                           max_failures=signin.max_failures(),
                           lock_minutes=signin.lock_minutes()), status


def after_password(user: User, target: str) -> ResponseReturnValue:
    """The step between "password verified" and "signed in": the second factor, when asked.

    Enrolled: the code page. Required but not enrolled: enrolment first. Otherwise signed in.
    """
    if second_factor.asked(user):
        pending.begin(user, target)
        if user.has_second_factor:
            return redirect(url_for("auth.second_step"), code=303)
        return redirect(url_for("auth.enrol_at_sign_in"), code=303)
    return finish_sign_in(user, target)


def start_session(user: User) -> None:
    """Signed in at last: the one place a browser session starts."""
    sessions.start(user)
    # The fresh session has no CSRF secret yet: forget the token Flask-WTF cached for this
    # request, so a page rendered now (the recovery codes) carries one of the new session.
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def finish_sign_in(user: User, target: str) -> ResponseReturnValue:
    start_session(user)
    return redirect(target, code=303)


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
