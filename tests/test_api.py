"""The JSON API: the item with the actions this user may take, and firing them."""

from __future__ import annotations

from auditflow.extensions import db
from auditflow.models import History
from tests.auth_helpers import csrf_token
from tests.pages_helpers import client_for, fresh


def _post(client, path, payload):
    token = csrf_token(client, "/")
    return client.post(path, json=payload, headers={"X-CSRFToken": token})


def test_get_item_with_allowed_actions(app, make):
    lead, helper = make.team("주관팀"), make.team("협조팀")
    rec = make.recommendation(lead=lead, supporting=[helper], state="reviewing",
                              category="corrective", text="요구 <b>내용</b>")
    client = client_for(app, make.user("audit"))

    data = client.get(f"/api/v1/recommendations/{rec.id}").get_json()

    assert data["id"] == rec.id and data["number"] == rec.number
    assert data["audit"]["title"] == rec.audit.title
    assert (data["category"], data["state"], data["state_label"]) == (
        "corrective", "reviewing", "검토 중")
    assert data["teams"] == {"lead": {"id": lead.id, "name": "주관팀"},
                             "supporting": [{"id": helper.id, "name": "협조팀"}]}
    assert data["council_text"] == "요구 <b>내용</b>"
    assert data["version"] == fresh(rec).version
    assert [a["trigger"] for a in data["allowed_actions"]] == [
        "approve", "return_for_rework", "decline"]
    approve = data["allowed_actions"][0]
    assert approve == {"trigger": "approve", "label": "승인(완료)", "reason_required": True,
                       "reason_label": "증빙자료 없이 승인하는 사유", "confirm": False,
                       "hint": "승인하면 완료로 처리되어 처리결과 보고서의 조치완료에 들어갑니다."}
    assert data["allowed_actions"][2]["confirm"] is True  # 미반영 asks to be confirmed


def test_fire_an_action_through_the_api(app, make):
    team = make.team()
    rec = make.recommendation(lead=team)
    worker = make.user("department", team=team)
    client = client_for(app, worker)

    response = _post(client, f"/api/v1/recommendations/{rec.id}/actions/start",
                     {"version": fresh(rec).version})

    assert response.status_code == 200
    assert response.get_json()["state"] == "in_progress"
    assert fresh(rec).state == "in_progress"
    last = db.session.scalars(db.select(History).where(
        History.recommendation_id == rec.id).order_by(History.id.desc())).first()
    assert (last.trigger, last.actor_id) == ("start", worker.id)


def test_api_refusals_are_json_with_code_and_korean_message(app, make):
    rec = make.recommendation(state="reviewing")
    client = client_for(app, make.user("audit"))
    path = f"/api/v1/recommendations/{rec.id}/actions"
    version = fresh(rec).version

    missing_reason = _post(client, f"{path}/return_for_rework", {"version": version})
    assert missing_reason.status_code == 400
    assert missing_reason.headers["Content-Type"] == "application/problem+json"
    assert missing_reason.get_json() == {
        "type": "urn:auditflow:problem:reason_required", "title": "잘못된 요청", "status": 400,
        "code": "reason_required", "detail": "사유를 입력하세요.",
        "request_id": missing_reason.headers["X-Request-ID"]}

    stale = _post(client, f"{path}/return_for_rework", {"version": version - 1, "reason": "x"})
    assert stale.status_code == 409 and stale.get_json()["code"] == "conflict"

    no_version = _post(client, f"{path}/return_for_rework", {"reason": "x"})
    assert no_version.status_code == 422
    assert no_version.get_json()["code"] == "validation_failed"
    assert no_version.get_json()["field"] == "version"
    assert "반드시 보내야 하는 항목" in no_version.get_json()["detail"]

    wrong_state = _post(client, f"{path}/start", {"version": version})
    assert wrong_state.status_code == 409
    assert wrong_state.get_json()["code"] == "invalid_state"

    assert fresh(rec).state == "reviewing" and fresh(rec).version == version


def test_api_hides_other_teams_items_and_refuses_readers(app, make):
    mine, other = make.team(), make.team()
    foreign = make.recommendation(lead=other)
    department = client_for(app, make.user("department", team=mine))
    response = department.get(f"/api/v1/recommendations/{foreign.id}")
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"
    liaison = client_for(app, make.user("liaison"))
    refused = _post(liaison, f"/api/v1/recommendations/{foreign.id}/actions/start",
                    {"version": fresh(foreign).version})
    assert refused.status_code == 403 and refused.get_json()["code"] == "forbidden"
    assert fresh(foreign).state == "received"
    assert app.test_client().get(f"/api/v1/recommendations/{foreign.id}").status_code == 401


def test_the_api_asks_for_the_confirmation_the_definition_declares(app, make):
    """미반영 and 재추진 need "confirm": true, as the form needs its "확인했습니다"."""
    rec = make.recommendation(state="reviewing")
    client = client_for(app, make.user("audit"))
    path = f"/api/v1/recommendations/{rec.id}/actions"
    version = fresh(rec).version

    unconfirmed = _post(client, f"{path}/decline", {"version": version, "reason": "반영 불가"})
    assert unconfirmed.status_code == 400
    assert unconfirmed.get_json()["code"] == "confirmation_required"
    assert unconfirmed.get_json()["detail"] == "'미반영 처리'를 하려면 '확인했습니다'에 표시하세요."
    assert fresh(rec).state == "reviewing" and fresh(rec).version == version

    not_a_bool = _post(client, f"{path}/decline",
                       {"version": version, "reason": "반영 불가", "confirm": "yes"})
    assert not_a_bool.status_code == 422
    assert not_a_bool.get_json()["field"] == "confirm"

    declined = _post(client, f"{path}/decline",
                     {"version": version, "reason": "반영 불가", "confirm": True})
    assert declined.status_code == 200 and declined.get_json()["state"] == "not_reflected"

    reopen = [a for a in declined.get_json()["allowed_actions"] if a["trigger"] == "reopen"]
    assert reopen and reopen[0]["confirm"] is True
    refused = _post(client, f"{path}/reopen", {"version": fresh(rec).version, "reason": "다시"})
    assert refused.get_json()["code"] == "confirmation_required"
    assert fresh(rec).state == "not_reflected"
    reopened = _post(client, f"{path}/reopen",
                     {"version": fresh(rec).version, "reason": "다시", "confirm": True})
    assert reopened.get_json()["state"] == "in_progress"


def test_an_unknown_action_is_not_found(app, make):
    rec = make.recommendation(state="reviewing")
    client = client_for(app, make.user("audit"))
    response = _post(client, f"/api/v1/recommendations/{rec.id}/actions/finish",
                     {"version": fresh(rec).version})
    assert response.status_code == 404
    assert response.get_json()["code"] == "unknown_trigger"
