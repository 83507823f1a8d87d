"""API v1 beyond the access rules: the list's filters and pages by key, the summary as the
command prints it, history, evidence, comments, the old paths, the document and its page."""

from __future__ import annotations

import io
import json

from auditflow.extensions import db
from auditflow.services import evidence as evidence_ops
from auditflow.services import tokens
from tests.pages_helpers import fresh


def _client(app, user):
    secret = tokens.create(user, name="시험", scope="write").secret
    db.session.commit()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client


def test_the_list_filters_like_the_page_and_pages_by_key(app, make):
    audit = make.audit(2025)
    mine, other = make.team("우리팀"), make.team("남의팀")
    own = [make.recommendation(audit=audit, lead=mine, number=n) for n in (1, 2, 3)]
    make.recommendation(audit=audit, lead=other, number=4)
    make.recommendation(audit=audit, lead=mine, number=5, state="in_progress",
                        text="찾을 낱말이 든 요구사항")
    department = _client(app, make.user("department", team=mine))

    first = department.get("/api/v1/recommendations?per_page=2").get_json()
    assert [item["number"] for item in first["items"]] == [1, 2]
    assert first["total"] == 4 and first["next_after"] == f"{audit.id}.2"
    second = department.get(f"/api/v1/recommendations?per_page=2&after={first['next_after']}")
    assert [item["number"] for item in second.get_json()["items"]] == [3, 5]
    assert second.get_json()["next_after"] is None

    state = department.get("/api/v1/recommendations?state=in_progress").get_json()
    assert [item["number"] for item in state["items"]] == [5]
    found = department.get("/api/v1/recommendations?q=낱말").get_json()
    assert [item["number"] for item in found["items"]] == [5] and found["total"] is None
    auditor = _client(app, make.user("audit"))
    by_team = auditor.get(f"/api/v1/recommendations?team={other.id}").get_json()
    assert [item["number"] for item in by_team["items"]] == [4]
    assert own[0].id in {item["id"] for item in first["items"]}
    refused = auditor.get("/api/v1/recommendations?state=finished&per_page=500")
    assert refused.status_code == 422
    assert set(refused.get_json()["errors"]) == {"query.state", "query.per_page"}


def test_the_summary_is_the_commands_json(app, seeded):
    from auditflow.models import User

    liaison = db.session.scalars(db.select(User).where(User.login == "liaison")).one()
    client = _client(app, liaison)
    answer = client.get("/api/v1/summary?as_of=2026-01-31")
    assert answer.status_code == 200
    printed = app.test_cli_runner().invoke(args=["summary", "--format", "json",
                                                 "--as-of", "2026-01-31"])
    assert answer.get_json() == json.loads(printed.output)
    assert answer.get_json()["rows"][0]["total"] == 12
    assert client.get("/api/v1/summary?audit=999").get_json()["code"] == "audit_not_found"


def test_history_evidence_and_comments_of_an_item(app, make):
    team = make.team()
    rec = make.recommendation(lead=team, state="in_progress")
    worker = make.user("department", team=team)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    evidence_ops.upload(rec, worker, io.BytesIO(pdf), "결과 보고.pdf")
    client = _client(app, worker)
    path = f"/api/v1/recommendations/{rec.id}"

    history = client.get(f"{path}/history").get_json()
    assert [row["kind"] for row in history][:2] == ["created", "text"]
    assert any(row["trigger"] == "start" and row["to_state"] == "in_progress" for row in history)
    [evidence] = client.get(f"{path}/evidence").get_json()
    assert (evidence["name"], evidence["version"], evidence["size"]) == ("결과 보고.pdf", 1, len(pdf))
    download = client.get(evidence["download"])
    assert download.status_code == 200 and download.data == pdf
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Security-Policy"] == "sandbox"

    added = client.post(f"{path}/comments", json={"body": "  확인했습니다. "})
    assert added.status_code == 201 and added.get_json()["body"] == "확인했습니다."
    assert [c["body"] for c in client.get(f"{path}/comments").get_json()] == ["확인했습니다."]
    empty = client.post(f"{path}/comments", json={"body": ""})
    assert empty.status_code == 422 and empty.get_json()["field"] == "body"
    unknown = client.post(f"{path}/comments", json={"body": "x", "extra": 1})
    assert unknown.status_code == 422 and unknown.get_json()["field"] == "extra"


def test_a_trigger_answers_the_item_and_a_stale_version_is_409(app, make):
    team = make.team()
    rec = make.recommendation(lead=team)
    client = _client(app, make.user("department", team=team))
    path = f"/api/v1/recommendations/{rec.id}/actions/start"
    done = client.post(path, json={"version": fresh(rec).version})
    assert done.status_code == 200 and done.get_json()["state"] == "in_progress"
    # 검토 요청 waits for 추진내용: the answer says what this user may do now, from the workflow.
    assert "submit" not in [a["trigger"] for a in done.get_json()["allowed_actions"]]
    stale = client.post(f"/api/v1/recommendations/{rec.id}/actions/submit",
                        json={"version": done.get_json()["version"] - 1})
    assert stale.status_code == 409 and stale.get_json()["code"] == "conflict"
    assert stale.get_json()["type"] == "urn:auditflow:problem:conflict"


def test_the_old_paths_redirect_with_308(app, make):
    team = make.team()
    rec = make.recommendation(lead=team)
    client = _client(app, make.user("department", team=team))
    old = client.get(f"/api/recommendations/{rec.id}")
    assert old.status_code == 308
    assert old.headers["Location"].endswith(f"/api/v1/recommendations/{rec.id}")
    moved = client.post(f"/api/recommendations/{rec.id}/actions/start",
                        json={"version": fresh(rec).version}, follow_redirects=True)
    assert moved.status_code == 200 and moved.get_json()["state"] == "in_progress"


def test_errors_are_problem_details_everywhere_under_the_api(app, make):
    client = _client(app, make.user("audit"))
    for path, status, code in (("/api/v1/nowhere", 404, "not_found"),
                               ("/api/v1/recommendations/99999", 404, "not_found"),
                               ("/api/v1/recommendations/99999999999", 404, "not_found")):
        response = client.get(path)
        assert response.status_code == status and response.mimetype == "application/problem+json"
        body = response.get_json()
        assert set(body) >= {"type", "title", "status", "detail", "code"}
        assert (body["status"], body["code"]) == (status, code)
    wrong_method = client.delete("/api/v1/audits")
    assert wrong_method.status_code == 405 and wrong_method.get_json()["code"] == "method_not_allowed"


def test_the_document_and_its_page_are_local(app):
    client = app.test_client()
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and spec["info"]["version"] == "v1"
    assert "/api/v1/recommendations/{recommendation_id}/actions/{trigger}" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "API 문서" in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "<script>" not in html and "http" not in html.split("<body>")[0].replace(
        "http-equiv", "")
    script = client.get("/api/v1/assets/api-docs.js")
    assert script.status_code == 200 and b"fetch(" in script.data


def test_evidence_uploads_through_the_api_all_or_nothing(app, make):
    team = make.team()
    rec = make.recommendation(lead=team, state="in_progress")
    client = _client(app, make.user("department", team=team))
    path = f"/api/v1/recommendations/{rec.id}/evidence"
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    done = client.post(path, data={"files": [(io.BytesIO(pdf), "보고.pdf"),
                                             (io.BytesIO(pdf), "보고.pdf")]})
    assert done.status_code == 201
    assert [(e["name"], e["version"]) for e in done.get_json()] == [("보고.pdf", 1), ("보고.pdf", 2)]
    refused = client.post(path, data={"files": [(io.BytesIO(pdf), "또.pdf"),
                                                (io.BytesIO(b"MZ\x90\x00"), "실행.exe")]})
    assert refused.status_code == 400 and refused.mimetype == "application/problem+json"
    assert "실행.exe" in refused.get_json()["detail"]
    assert len(client.get(path).get_json()) == 2
    missing = client.post(path, data={})
    assert missing.status_code == 422 and missing.get_json()["field"] == "files"


def test_report_files_by_format_are_the_pages_downloads(app, seeded, monkeypatch):
    from urllib.parse import quote

    from auditflow.models import Audit, User
    from tests.auth_helpers import login
    from tests.conftest import DEMO_PASSWORD

    liaison = db.session.scalars(db.select(User).where(User.login == "liaison")).one()
    audit = db.session.scalars(db.select(Audit).where(Audit.year == 2025)).one()
    client = _client(app, liaison)
    base = f"/api/v1/audits/{audit.id}/report"
    page = app.test_client()
    assert login(page, "liaison", DEMO_PASSWORD).status_code == 303
    for fmt, mimetype in (("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                          ("csv", "text/csv"), ("hwpx", "application/hwp+zip")):
        answer = client.get(f"{base}/{fmt}?as_of=2026-01-31")
        assert answer.status_code == 200 and answer.mimetype == mimetype, answer.get_data(as_text=True)
        assert quote("2025 행정사무감사 처리결과('26.1.31. 기준)") in answer.headers["Content-Disposition"]
        assert answer.data == page.get(f"/summary/{audit.id}/report.{fmt}?as_of=2026-01-31").data
    spec = client.get("/api/v1/openapi.json").get_json()
    parameters = spec["paths"]["/api/v1/audits/{audit_id}/report/{fmt}"]["parameters"]
    assert {"csv", "hwpx", "xlsx", "pdf", "html"} <= set(
        next(p for p in parameters if p["name"] == "fmt")["schema"]["enum"])

    assert client.get(f"{base}/docx").status_code == 404
    assert client.get("/api/v1/audits/99999/report/csv").get_json()["code"] == "audit_not_found"
    future = client.get(f"{base}/csv?as_of=2999-01-01")
    assert (future.status_code, future.get_json()["code"]) == (400, "as_of_in_future")
    monkeypatch.setitem(app.config["DIRECT_DOWNLOAD_MAX_ITEMS"], "csv", 1)
    large = client.get(f"{base}/csv")
    assert (large.status_code, large.get_json()["code"]) == (409, "report_needs_job")
    assert "파일 만들기" in large.get_json()["detail"]
