"""One transaction per request, committed in one place: when the commit fails the user is told so.

The application here runs as in production (``PROPAGATE_EXCEPTIONS`` off, CSRF on),
so an error the boundary did not catch would show as a bare 500, not a test error.
A commit is made to fail at the moment it happens, after the view has flashed its
success, the way a lost database connection or a concurrent writer makes it fail.
"""

from __future__ import annotations

import html
import io
from collections.abc import Iterator

import pytest
from flask import has_request_context
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from auditflow.extensions import db
from auditflow.models import Comment, Evidence, History
from auditflow.storage.transactional import file_store
from tests.auth_helpers import csrf_token, login
from tests.factories import PASSWORD
from tests.test_storage import make_pdf


@pytest.fixture
def app_config():
    return {"PROPAGATE_EXCEPTIONS": False}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def failing_commit() -> Iterator[list[BaseException]]:
    """Make the next commit inside a request raise what the test puts in the list."""
    pending: list[BaseException] = []

    def fail(session: Session) -> None:
        if pending and has_request_context():
            raise pending.pop()

    event.listen(Session, "before_commit", fail)
    yield pending
    event.remove(Session, "before_commit", fail)


@pytest.fixture
def item(make):
    return make.worked_item()


def signed_in(app, user):
    client = app.test_client()
    assert login(client, user.login, PASSWORD).status_code == 303
    return client


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def comment(client, recommendation, body: str, *, then_fail: list | None = None,
            error: BaseException | None = None):
    """Post a comment; with ``error``, its commit (and only its) fails with it."""
    path = f"/recommendations/{recommendation.id}"
    token = csrf_token(client, path)
    if error is not None:
        then_fail.append(error)
    return client.post(f"{path}/comments", data={"body": body, "csrf_token": token})


def test_a_failed_commit_answers_the_error_page_without_the_success_message(
        app, item, failing_commit):
    recommendation, worker = item
    client = signed_in(app, worker)
    response = comment(client, recommendation, "확인 부탁드립니다.", then_fail=failing_commit,
                       error=OperationalError("COMMIT", {}, Exception("server closed")))
    assert response.status_code == 500
    assert "일시적인 오류가 발생했습니다" in text(response)
    assert "의견을 남겼습니다." not in text(response)
    assert count(Comment) == 0
    # Nor does the message wait for the next page.
    page = client.get(f"/recommendations/{recommendation.id}")
    assert page.status_code == 200 and "의견을 남겼습니다." not in text(page)
    # The same request, once the database answers again, is committed and told.
    done = comment(client, recommendation, "확인 부탁드립니다.")
    assert done.status_code == 303
    assert "의견을 남겼습니다." in text(client.get(done.location))
    assert count(Comment) == 1


def test_a_version_conflict_at_commit_is_the_conflict_page(app, item, failing_commit):
    recommendation, worker = item
    client = signed_in(app, worker)
    response = comment(client, recommendation, "동시에 씀", then_fail=failing_commit,
                       error=StaleDataError("recommendation was changed by another session"))
    assert response.status_code == 409
    assert "다른 사용자가 먼저 변경했습니다" in text(response)
    assert count(Comment) == 0


def test_an_upload_whose_commit_fails_leaves_no_file_and_no_row(app, item, failing_commit):
    recommendation, worker = item
    client = signed_in(app, worker)
    history_before = count(History)
    path = f"/recommendations/{recommendation.id}"
    token = csrf_token(client, path)
    failing_commit.append(OperationalError("COMMIT", {}, Exception("disk I/O error")))
    response = client.post(f"{path}/evidence", content_type="multipart/form-data",
                           data={"files": [(io.BytesIO(make_pdf()), "결과.pdf")],
                                 "csrf_token": token})
    assert response.status_code == 500
    assert "증빙자료 1개를 올렸습니다" not in text(response)
    assert count(Evidence) == 0 and count(History) == history_before
    assert [p for p in file_store().root.rglob("*") if p.is_file()] == []
    assert "증빙자료 1개를 올렸습니다" not in text(client.get(path))


def test_the_json_api_answers_a_failed_commit_in_json(app, make, failing_commit):
    recommendation = make.recommendation(state="received")
    worker = make.user("department", team=recommendation.lead_team)
    db.session.commit()
    client = signed_in(app, worker)
    token = csrf_token(client, "/")
    failing_commit.append(OperationalError("COMMIT", {}, Exception("gone")))
    response = client.post(f"/api/v1/recommendations/{recommendation.id}/actions/start",
                           json={"version": recommendation.version},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.get_json() == {
        "type": "urn:auditflow:problem:server_error", "title": "일시적인 오류", "status": 500,
        "code": "server_error", "request_id": response.headers["X-Request-ID"],
        "detail": "일시적인 오류가 발생했습니다. 잠시 후 다시 시도하세요. 문제가 계속되면 관리자에게 알려 주세요."}
    db.session.refresh(recommendation)
    assert recommendation.state == "received"


def test_a_refused_change_keeps_nothing(app, item):
    """A stale version is refused (back to the item with the conflict message), nothing kept."""
    recommendation, worker = item
    client = signed_in(app, worker)
    path = f"/recommendations/{recommendation.id}"
    response = client.post(f"{path}/result", data={
        "action_details": "ㅇ 새로 쓴 추진내용", "future_plan": "", "version": "not-a-number",
        "csrf_token": csrf_token(client, path)})
    assert response.status_code == 303
    assert "다른 사용자가 먼저 변경했습니다" in text(client.get(response.location))
    db.session.refresh(recommendation)
    assert recommendation.action_details == "ㅇ 조치 완료"
