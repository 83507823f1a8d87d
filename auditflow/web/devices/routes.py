"""로그인 기기 (/account/devices): where the user is signed in, and ending it elsewhere.

This device's session is marked and cannot be ended here (that is 로그아웃). Every
change is a POST with the CSRF token; ending all others needs the confirmation box.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from auditflow.http import sessions
from auditflow.http.access import actor, require
from auditflow.services import user_sessions
from auditflow.web.devices.forms import EndOneForm, EndOthersForm

bp = Blueprint("devices", __name__)


def _page(others_form: EndOthersForm) -> Response:
    body = render_template("devices/index.html", rows=user_sessions.active_of(actor()),
                           current=sessions.current_device(), end_form=EndOneForm(),
                           others_form=others_form)
    response = current_app.make_response(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/account/devices")
@require()
def index() -> ResponseReturnValue:
    return _page(EndOthersForm(formdata=None))


@bp.post("/account/devices/<int:session_id>/end")
@require()
def end_one(session_id: int) -> ResponseReturnValue:
    if not EndOneForm().validate_on_submit():
        return _page(EndOthersForm(formdata=None)), 400
    row = user_sessions.end_one(actor(), session_id, current=sessions.current_device())
    flash(f"로그인 기기({row.user_agent})의 로그인을 종료했습니다.", "success")
    return redirect(url_for(".index"), code=303)


@bp.post("/account/devices/end-others")
@require()
def end_others() -> ResponseReturnValue:
    form = EndOthersForm()
    if not form.validate_on_submit():
        return _page(form), 400
    ended = user_sessions.end_others(actor(), current=sessions.current_device())
    if ended:
        flash(f"다른 기기 {ended}곳의 로그인을 종료했습니다. 지금 사용 중인 기기는 로그인된 상태입니다.",
              "success")
    else:
        flash("종료할 다른 기기가 없습니다.", "info")
    return redirect(url_for(".index"), code=303)
