"""알림: the bell's list, marking read, and the choice of what also comes by e-mail.

Every signed-in user has notifications of their own; nobody sees or marks anyone else's
(a notification id of another user answers 404).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from auditflow.extensions import db
from auditflow.http.access import actor, require
from auditflow.models import Notification
from auditflow.paging import Page, clamp
from auditflow.params import MAX_PAGE, small_int
from auditflow.services import notifications
from auditflow.web.notifications.forms import MarkReadForm, PreferencesForm

bp = Blueprint("notifications", __name__)

PER_PAGE = 30


@bp.get("/notifications")
@require()
def index() -> ResponseReturnValue:
    user = actor()
    total = db.session.scalar(select(func.count()).select_from(Notification)
                              .where(Notification.user_id == user.id)) or 0
    raw = request.args.get("page", "")
    number = clamp(small_int(raw, maximum=MAX_PAGE) or 1, total, PER_PAGE)
    rows = list(db.session.scalars(
        select(Notification).where(Notification.user_id == user.id)
        .order_by(Notification.id.desc()).limit(PER_PAGE).offset((number - 1) * PER_PAGE)))
    page = Page(items=rows, number=number, per_page=PER_PAGE,
                has_next=number * PER_PAGE < total, total=total)
    return render_template("notifications/index.html", page=page, form=MarkReadForm(),
                           unread=notifications.unread_count(user.id),
                           page_url=lambda n: url_for(".index", page=n))


@bp.post("/notifications/<int:notification_id>/read")
@require()
def read(notification_id: int) -> ResponseReturnValue:
    user = actor()
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        abort(404)
    if not MarkReadForm().validate_on_submit():
        abort(400)
    notifications.mark_read(user, notification.id)
    if notification.recommendation_id is not None and notification.recommendation is not None \
            and notification.recommendation.can_view(user):
        return redirect(url_for("recommendations.detail",
                                recommendation_id=notification.recommendation_id), code=303)
    return redirect(url_for(".index"), code=303)


@bp.post("/notifications/read-all")
@require()
def read_all() -> ResponseReturnValue:
    if not MarkReadForm().validate_on_submit():
        abort(400)
    count = notifications.mark_read(actor())
    flash(f"알림 {count}건을 읽음으로 표시했습니다." if count else "읽지 않은 알림이 없습니다.",
          "success" if count else "info")
    return redirect(url_for(".index"), code=303)


@bp.route("/account/notifications", methods=["GET", "POST"])
@require()
def preferences() -> ResponseReturnValue:
    user = actor()
    form = PreferencesForm()
    if form.validate_on_submit():
        notifications.set_email_preferences(user, form.chosen())
        flash("알림 메일 설정을 저장했습니다.", "success")
        return redirect(url_for(".preferences"), code=303)
    if request.method == "GET":
        chosen = notifications.email_preferences(user)
        form.email_kinds.data = [kind.value for kind, on in chosen.items() if on]
    return render_template("notifications/preferences.html", form=form, user=user), (
        400 if form.errors else 200)
