"""User administration: list, create, edit, reset a password or a second factor,
deactivate/reactivate, unlock.

``Capability.ADMINISTER_USERS`` only (everyone else 403, signed out → the sign-in page), and
a recent 본인 확인 (``http.reauth``: the password again after ``REAUTH_MINUTES``). Every
change is a POST with a CSRF token; the rules live in ``auditflow.services.accounts``.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from auditflow import dates
from auditflow.http.access import actor, require
from auditflow.http.reauth import recent_confirmation
from auditflow.models import AccessKind
from auditflow.permissions import Capability
from auditflow.reports import access_review
from auditflow.services import accounts, integrity, passwords
from auditflow.services.access_log import record_access
from auditflow.storage import content_disposition
from auditflow.web.admin.forms import (
    NO_TEAM,
    ActiveForm,
    PasswordResetForm,
    SecondFactorResetForm,
    UnlockForm,
    UserCreateForm,
    UserEditForm,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")

PASSWORD_RULE = passwords.RULE_HINT



def _place(form: Any, refused: accounts.AccountError) -> None:
    """Show each refusal next to its field, or above the form when it belongs to no field."""
    for error in accounts.each(refused):
        target = getattr(form, error.field, None) if error.field else None
        if target is not None:
            target.errors = [*target.errors, error.message]
        else:
            form.form_errors.append(error.message)


def _user(user_id: int) -> Any:
    return accounts.get(user_id)  # NotFound → the Korean 404 page


@bp.get("/users")
@require(Capability.ADMINISTER_USERS)
@recent_confirmation
def users() -> ResponseReturnValue:
    return render_template("admin/users.html", rows=accounts.listing(), unlock_form=UnlockForm())


@bp.route("/users/new", methods=["GET", "POST"])
@require(Capability.ADMINISTER_USERS)
@recent_confirmation
def create_user() -> ResponseReturnValue:
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user = accounts.create(
                login=form.login.data, name=form.name.data, role=form.role.data,
                team=form.team.data or None, password=form.password.data, actor=actor(),
                email=form.email.data, is_manager=bool(form.is_manager.data))
        except accounts.AccountError as refused:
            _place(form, refused)
        else:
            flash(f"사용자 '{user.login}'을(를) 등록했습니다.", "success")
            return redirect(url_for("admin.users"), code=303)
    return render_template("admin/user_form.html", form=form, user=None, rule=PASSWORD_RULE)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@require(Capability.ADMINISTER_USERS)
@recent_confirmation
def edit_user(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    form = UserEditForm(data={"name": user.name, "role": user.role,
                              "team": user.team.code if user.team else NO_TEAM,
                              "email": user.email or "", "is_manager": user.is_manager})
    if form.validate_on_submit():
        try:
            accounts.update(user, name=form.name.data, role=form.role.data,
                            team=form.team.data or None, actor=actor(),
                            email=form.email.data, is_manager=bool(form.is_manager.data))
        except accounts.AccountError as refused:
            _place(form, refused)
        else:
            flash(f"사용자 '{user.login}'의 정보를 저장했습니다.", "success")
            return redirect(url_for("admin.users"), code=303)
    return render_template("admin/user_form.html", form=form, user=user, rule=PASSWORD_RULE)


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@require(Capability.ADMINISTER_USERS)
@recent_confirmation
def reset_password(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(user, form.password.data, actor=actor())
        except accounts.AccountError as refused:
            _place(form, refused)
        else:
            flash(f"'{user.login}'의 비밀번호를 재설정했습니다. 이 사용자의 기존 로그인은 모두 "
                  "종료되었고 잠금도 풀렸습니다. 새 비밀번호를 본인에게 안전하게 전달하세요.",
                  "success")
            return redirect(url_for("admin.users"), code=303)
    return render_template("admin/password.html", form=form, user=user, rule=PASSWORD_RULE)


@bp.route("/users/<int:user_id>/active", methods=["GET", "POST"])
@require(Capability.ADMINISTER_USERS)
@recent_confirmation
def set_active(user_id: int) -> ResponseReturnValue:
    """Deactivate an active user, or reactivate an inactive one, after a confirmation."""
    user = _user(user_id)
    activate = not user.active
    form = ActiveForm()
    if form.validate_on_submit():
        try:
            accounts.set_active(user, activate, actor=actor())
        except accounts.AccountError as refused:
            _place(form, refused)
        else:
            flash(f"'{user.login}' 계정을 " + ("다시 사용하게 했습니다." if activate else
                  "사용 중지했습니다. 이 사용자의 로그인은 모두 종료되었습니다."), "success")
            return redirect(url_for("admin.users"), code=303)
    return render_template("admin/active.html", form=form, user=user, activate=activate)


@bp.post("/users/<int:user_id>/unlock")
@require(Capability.ADMINISTER_USERS)
@recent_confirmation
def unlock(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    form = UnlockForm()
    if form.validate_on_submit():
        accounts.unlock(user, actor=actor())
        flash(f"'{user.login}' 계정의 잠금을 풀었습니다.", "success")
    return redirect(url_for("admin.users"), code=303)



@bp.route("/users/<int:user_id>/second-factor", methods=["GET", "POST"])
@require(Capability.ADMINISTER_USERS)
@recent_confirmation
def reset_second_factor(user_id: int) -> ResponseReturnValue:
    """Take another user's second factor away (a lost phone), after a confirmation; recorded."""
    user = _user(user_id)
    form = SecondFactorResetForm()
    if form.validate_on_submit():
        try:
            accounts.reset_second_factor(user, actor=actor())
        except accounts.AccountError as refused:
            _place(form, refused)
        else:
            flash(f"'{user.login}'의 2단계 인증을 초기화했습니다. 이 사용자의 기존 로그인은 모두 "
                  "종료되었고, 다음 로그인 때 인증 앱을 다시 등록합니다.", "success")
            return redirect(url_for("admin.users"), code=303)
    return render_template("admin/second_factor.html", form=form, user=user)


@bp.get("/integrity")
@require(Capability.REVIEW_ACCESS_LOG)
def integrity_status() -> ResponseReturnValue:
    """The last run of ``flask integrity verify``: when, what it counted, what it found."""
    check = integrity.last_check()
    counts = json.loads(check.counts) if check is not None else {}
    return render_template("admin/integrity.html", check=check, counts=counts)


def _month() -> date:
    """The month asked for (``?month=YYYY-MM``), else the last one (the monthly check)."""
    raw = request.args.get("month", "")
    try:
        year, month = (int(part) for part in raw.split("-"))
        return date(year, month, 1)
    except ValueError:
        this = dates.today().replace(day=1)
        return (this - timedelta(days=1)).replace(day=1)


@bp.get("/access")
@require(Capability.REVIEW_ACCESS_LOG)
def access_review_page() -> ResponseReturnValue:
    """접속기록 점검: the month by person and by kind, unusual volumes flagged, every record."""
    month = _month()
    review = access_review.month_review(month)
    previous = (month - timedelta(days=1)).replace(day=1)
    following = (month + timedelta(days=32)).replace(day=1)
    return render_template("admin/access.html", review=review, labels=access_review.labels(),
                           previous=f"{previous:%Y-%m}", following=f"{following:%Y-%m}",
                           month=f"{month:%Y-%m}")


@bp.get("/access/export.xlsx")
@require(Capability.REVIEW_ACCESS_LOG)
def access_export() -> ResponseReturnValue:
    month = _month()
    review = access_review.month_review(month)
    record_access(AccessKind.EXPORT, target=f"access log {month:%Y-%m} xlsx ({len(review.records)} records)")
    body = access_review.to_xlsx(review)
    response = Response(body, content_type="application/vnd.openxmlformats-officedocument"
                                           ".spreadsheetml.sheet")
    response.headers["Content-Disposition"] = content_disposition(f"접속기록_점검_{month:%Y%m}.xlsx")
    response.headers["Cache-Control"] = "private, no-store"
    return response
