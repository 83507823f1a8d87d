from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user

from auditflow import workflow
from auditflow.errors import DomainError, Forbidden
from auditflow.models import Recommendation
from auditflow.services import recommendations as ops
from auditflow.web.access import ITEM_ACTORS, READERS, actor, load_visible

bp = Blueprint("api", __name__, url_prefix="/api")


class LoginRequired(DomainError):
    code = "login_required"
    message = "로그인이 필요합니다."
    status = 401


def api_roles(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Like ``require_roles`` but answering JSON: 401 when signed out, 403 for other roles."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                raise LoginRequired()
            if current_user.role not in roles:
                raise Forbidden()
            return view(*args, **kwargs)

        return wrapped

    return decorator


def serialize(recommendation: Recommendation, user: Any) -> dict[str, Any]:
    def team(unit: Any) -> dict[str, Any] | None:
        return {"id": unit.id, "name": unit.name} if unit else None

    return {
        "id": recommendation.id,
        "number": recommendation.number,
        "audit": {
            "id": recommendation.audit.id,
            "year": recommendation.audit.year,
            "title": recommendation.audit.title,
        },
        "category": recommendation.category,
        "category_label": recommendation.category_enum.label,
        "council_text": recommendation.council_text,
        "state": recommendation.state,
        "state_label": recommendation.state_enum.label,
        "teams": {
            "lead": team(recommendation.lead_team),
            "supporting": [team(unit) for unit in recommendation.supporting_teams],
        },
        "due_date": recommendation.due_date.isoformat() if recommendation.due_date else None,
        "action_details": recommendation.action_details,
        "future_plan": recommendation.future_plan,
        "version": recommendation.version,
        "allowed_actions": [
            action.as_dict() for action in workflow.available_actions(recommendation, user)
        ],
    }



@bp.get("/recommendations/<int:recommendation_id>")
@api_roles(*READERS, "department")
def recommendation(recommendation_id: int) -> Any:
    item = load_visible(recommendation_id)
    return jsonify(serialize(item, actor()))


@bp.post("/recommendations/<int:recommendation_id>/actions/<trigger>")
@api_roles(*ITEM_ACTORS)
def action(recommendation_id: int, trigger: str) -> Any:
    item = load_visible(recommendation_id)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise DomainError("JSON 본문 {\"reason\": ..., \"version\": ...}을 보내세요.",
                          code="invalid_json")
    version = payload.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        # Required: without it a stale screen could silently overwrite a newer state.
        raise DomainError("화면에서 본 항목의 version(정수)을 함께 보내세요.",
                          code="version_required")
    reason = payload.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise DomainError("reason은 문자열이어야 합니다.", code="invalid_reason")
    ops.fire(item, trigger, actor(), reason=reason, expected_version=version)
    return jsonify(serialize(item, actor()))
