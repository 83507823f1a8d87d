"""Home: what each role needs first."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import func, nulls_last, select
from sqlalchemy.orm import selectinload

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Recommendation
from auditflow.web.access import READERS, require_roles, visible_to
from auditflow.workflow import CLOSED, State

bp = Blueprint("home", __name__)

LIMIT = 50  # a home page is a to-do list; the full list is one click away


def _items(*conditions: Any, order: Any = None) -> list[Recommendation]:
    stmt = (
        select(Recommendation)
        .where(visible_to(current_user), *conditions)
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
@require_roles(*READERS, "department")
def index() -> Any:
    role = current_user.role
    context: dict[str, Any] = {"role": role}
    if role == "audit":
        context["reviewing"] = _items(Recommendation.state == State.REVIEWING.value)
        context["overdue"] = _items(Recommendation.due_date < dates.today(), _open())
        counts = dict(
            db.session.execute(
                select(Recommendation.state, func.count()).group_by(Recommendation.state)
            ).all()
        )
        context["counts"] = [(state, counts.get(state.value, 0)) for state in State]
        context["total"] = sum(counts.values())
    elif role == "department":
        context["items"] = _items()
        context["open_count"] = db.session.scalar(
            select(func.count(Recommendation.id)).where(visible_to(current_user), _open())
        )
    return render_template("home/index.html", **context)
