"""Home: what each user needs first, by what they may do."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from sqlalchemy import func, nulls_last, select
from sqlalchemy.orm import selectinload

from auditflow import dates
from auditflow.extensions import db
from auditflow.http.access import require, viewer
from auditflow.models import Recommendation
from auditflow.permissions import Capability
from auditflow.vocabulary import CLOSED, State

bp = Blueprint("home", __name__)

LIMIT = 50  # a home page is a to-do list; the full list is one click away


def _items(*conditions: Any, order: Any = None) -> list[Recommendation]:
    stmt = (
        select(Recommendation)
        .where(Recommendation.visible_to(viewer()), *conditions)
        .order_by(*(order or (nulls_last(Recommendation.due_date.asc()), Recommendation.id)))
        .limit(LIMIT)
        .options(
            selectinload(Recommendation.audit),
            selectinload(Recommendation.lead_team),
            selectinload(Recommendation.supporting_teams),
        )
    )
    return list(db.session.scalars(stmt))


def _open() -> Any:
    return Recommendation.state.not_in([state.value for state in CLOSED])


@bp.get("/")
@require()
def index() -> Any:
    user = viewer()
    context: dict[str, Any] = {}
    if user.can(Capability.REVIEW_ITEMS):
        context["reviewing"] = _items(Recommendation.state == State.REVIEWING.value)
        context["overdue"] = _items(Recommendation.due_date < dates.today(), _open())
        counts = dict(
            db.session.execute(
                select(Recommendation.state, func.count()).group_by(Recommendation.state)
            ).all()
        )
        context["counts"] = [(state, counts.get(state.value, 0)) for state in State]
        context["total"] = sum(counts.values())
    if user.can(Capability.WORK_ON_ASSIGNED_ITEMS):
        context["items"] = _items()
        context["open_count"] = db.session.scalar(
            select(func.count(Recommendation.id)).where(Recommendation.visible_to(user), _open())
        )
    return render_template("home/index.html", **context)
