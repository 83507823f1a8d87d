"""bench/load_bench.py: the forms its users post are the pages' own, and its messages are the
views' (else the bench would count every change as refused, or every refusal as made); and it
never recreates the suite's database. No timing: the benchmark itself only prints."""

from __future__ import annotations

import importlib.util
import io
import sys
from types import ModuleType

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from auditflow.extensions import db
from auditflow.models import Comment, Evidence, History
from auditflow.vocabulary import Field, HistoryKind
from auditflow.workflow.errors import ConflictError
from tests.auth_helpers import login
from tests.conftest import REPO
from tests.factories import PASSWORD


def _bench(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


pages = _bench("load_pages")


def _forms(client, item_id: int) -> dict[str, dict[str, str]]:
    response = client.get(f"/recommendations/{item_id}")
    assert response.status_code == 200
    return pages.forms_of(response.get_data(as_text=True))


def _post(client, action: str, data: dict, **kw) -> str:
    response = client.post(action, data=data, follow_redirects=True, **kw)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_bench_posts_the_item_pages_own_forms_and_reads_their_answers(app, make):
    team = make.team("벤치팀")
    item = make.recommendation(lead=team, state="in_progress")
    worker = make.user("department", team=team)
    auditor = make.user("audit")
    db.session.commit()
    item_id = item.id
    team_client, audit_client = app.test_client(), app.test_client()
    assert login(team_client, worker.login, PASSWORD).status_code == 303
    assert login(audit_client, auditor.login, PASSWORD).status_code == 303

    forms = _forms(team_client, item_id)
    base = f"/recommendations/{item_id}"
    for action in ("/result", "/comments", "/evidence", "/actions/submit"):
        assert "csrf_token" in forms[base + action], action
    stale = forms[base + "/result"]
    assert "version" in stale

    saved = _post(team_client, base + "/result",
                  {**stale, "action_details": "ㅇ 벤치 조치 lb1-x", "future_plan": ""})
    assert pages.SAVED["result"] in saved
    said = _post(team_client, base + "/comments",
                 {**forms[base + "/comments"], "body": "벤치 의견 lb2-x"})
    assert pages.SAVED["comment"] in said
    uploaded = _post(team_client, base + "/evidence",
                     {**forms[base + "/evidence"],
                      "files": (io.BytesIO(pages.png("lb3-x")), "벤치증빙-lb3-x.png")},
                     content_type="multipart/form-data")
    assert pages.SAVED["upload"] in uploaded  # the bench's file passes the upload's checks
    submit = pages.forms_of(uploaded)[base + "/actions/submit"]
    assert pages.SAVED["trigger"] in _post(team_client, base + "/actions/submit", submit)

    review = _forms(audit_client, item_id)
    rework = review[base + "/actions/return_for_rework"]
    assert base + "/actions/approve" in review and "reason" in rework
    assert pages.SAVED["trigger"] in _post(audit_client, base + "/actions/return_for_rework",
                                           {**rework, "reason": "벤치 사유 lb4-x"})
    # the page opened before all that: its version is stale, and the answer says so
    conflict = _post(team_client, base + "/result", {**stale, "action_details": "ㅇ 늦은 수정"})
    assert pages.CONFLICT in conflict and pages.SAVED["result"] not in conflict

    rows = db.session.scalars(select(History).where(History.recommendation_id == item_id)).all()
    assert any(h.kind == HistoryKind.RESULT and h.field == Field.ACTION_DETAILS
               and "lb1-x" in (h.new_value or "") for h in rows)
    assert any(h.kind == HistoryKind.EVIDENCE and "lb3-x" in (h.new_value or "") for h in rows)
    assert any(h.trigger == "return_for_rework" and h.comment == "벤치 사유 lb4-x" for h in rows)
    assert db.session.scalar(select(Comment.body).where(Comment.recommendation_id == item_id)) \
        == "벤치 의견 lb2-x"
    assert "lb3-x" in (db.session.scalar(select(Evidence.original_name)) or "")


def test_the_conflict_message_is_the_workflows():
    assert ConflictError.message.startswith(pages.CONFLICT)


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",  # the suite's database
    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    "sqlite:///bench.db",
])
def test_it_refuses_to_recreate_any_database_but_its_own(url):
    load_bench = _bench("load_bench")
    with pytest.raises(SystemExit):
        load_bench.recreate_database(make_url(url))

