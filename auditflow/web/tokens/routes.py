"""내 API 토큰 (/account/tokens): a user's own personal access tokens, nobody else's.

A new token is shown on the answer to the form post, once, and never again: it is not
put in the session or a flash message (the cookie would carry it), and the page is
not cached.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from auditflow.http.access import actor, require
from auditflow.models import utcnow
from auditflow.services import tokens
from auditflow.web.tokens.forms import NewTokenForm, RevokeForm

bp = Blueprint("tokens", __name__)


def _page(form: NewTokenForm, made: tokens.Made | None = None) -> Response:
    user = actor()
    body = render_template("tokens/index.html", form=form, revoke_form=RevokeForm(),
                           tokens=tokens.tokens_of(user), made=made, now=utcnow())
    response = current_app.make_response(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/tokens", methods=["GET", "POST"])
@require()
def index() -> ResponseReturnValue:
    form = NewTokenForm()
    if request.method == "GET":
        form.days.data = current_app.config["API_TOKEN_DAYS"]
        return _page(form)
    if not form.validate_on_submit():
        return _page(form), 400
    made = tokens.create(actor(), name=form.name.data or "", scope=form.scope.data or "",
                         days=form.days.data)
    return _page(NewTokenForm(formdata=None), made)


@bp.post("/account/tokens/<int:token_id>/revoke")
@require()
def revoke(token_id: int) -> ResponseReturnValue:
    if not RevokeForm().validate_on_submit():
        abort(400)
    token = tokens.revoke(actor(), token_id)
    flash(f"토큰 '{token.name}'({token.prefix}…)을(를) 폐기했습니다. 이 토큰으로는 더 이상 "
          "API를 쓸 수 없습니다.", "success")
    return redirect(url_for(".index"), code=303)
