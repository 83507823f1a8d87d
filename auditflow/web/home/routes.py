"""Home: 내 할 일, what each user needs first, by what they may do (``reports.work_queue``)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from auditflow.extensions import db
from auditflow.http.access import require, viewer
from auditflow.models import Recommendation
from auditflow.permissions import Capability
from auditflow.reports import memo, summary_formats
from auditflow.reports.work_queue import work_queue
from auditflow.vocabulary import State

bp = Blueprint("home", __name__)


@bp.get("/")
@require()
def index() -> ResponseReturnValue:
    user = viewer()
    queue = work_queue(user)
    context: dict[str, object] = {"queue": queue}
    if queue.summary is not None:
        context["summary_rows"] = summary_formats.table(queue.summary)
    if user.can(Capability.REVIEW_ITEMS):
        counts: dict[str, int] = memo.remembered(("items by state",), lambda: dict(
            db.session.execute(  # every item of every audit: kept while the history stands
                select(Recommendation.state, func.count()).group_by(Recommendation.state)
            ).all()))
        context["counts"] = [(state, counts.get(state.value, 0)) for state in State]
        context["total"] = sum(counts.values())
    return render_template("home/index.html", **context)
