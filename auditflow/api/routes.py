from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from auditflow import workflow
from auditflow.errors import DomainError
from auditflow.http.access import actor, load_visible, require
from auditflow.models import Recommendation
from auditflow.permissions import Actor
from auditflow.services import recommendations as ops

bp = Blueprint("api", __name__, url_prefix="/api")


def serialize(recommendation: Recommendation, user: Actor) -> dict[str, Any]:
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
@require()
def recommendation(recommendation_id: int) -> Any:
    item = load_visible(recommendation_id)
    return jsonify(serialize(item, actor()))


@bp.post("/recommendations/<int:recommendation_id>/actions/<trigger>")
@require(*workflow.TRIGGER_CAPABILITIES)
def action(recommendation_id: int, trigger: str) -> Any:
    item = load_visible(recommendation_id)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise DomainError("JSON 본문 {\"version\": ..., \"reason\": ..., \"confirm\": ...}을 보내세요.",
                          code="invalid_json")
    version = payload.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        # Required: without it a stale screen could silently overwrite a newer state.
        raise DomainError("화면에서 본 항목의 version(정수)을 함께 보내세요.",
                          code="version_required")
    reason = payload.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise DomainError("reason은 문자열이어야 합니다.", code="invalid_reason")
    confirm = payload.get("confirm", False)
    if not isinstance(confirm, bool):
        raise DomainError("confirm은 true 또는 false여야 합니다.", code="invalid_confirm")
    ops.fire(item, trigger, actor(), reason=reason, confirmed=confirm, expected_version=version)
    return jsonify(serialize(item, actor()))
