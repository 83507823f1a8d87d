"""Issued versions (발행): stored as sent, numbered, never changed, regenerated identically.

The page asks the worker (a report job); these tests make the queued job where they
need it (``run_queued_jobs``). tests/test_report_jobs.py runs a real worker.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import (
    AppendOnlyViolation,
    Audit,
    IssuedReport,
    IssuedReportFile,
    OrgUnit,
    Recommendation,
    ReportJob,
    User,
)
from auditflow.reports import FORMATS, WRITERS, csv_items, html
from auditflow.reports.content import build_report
from auditflow.services import recommendations as ops
from auditflow.services.issuing import issue
from auditflow.storage.transactional import file_store
from auditflow.vocabulary import State
from tests.auth_helpers import SIGNED_IN_PAGE, login, post_form
from tests.conftest import DEMO_PASSWORD, rendered
from tests.job_helpers import run_queued_jobs
from tests.test_report_readback import read_csv, read_html, read_pdf

REFERENCE = date(2026, 1, 31)


@pytest.fixture
def audit(seeded, render_once):
    """The seed's audit. Tests about numbering and immutability render each format once."""
    return db.session.scalar(db.select(Audit).filter_by(year=2025))


@pytest.fixture
def audit_rendered_each_time(seeded):
    """The seed's audit, every file rendered anew: for the tests about what the files say."""
    return db.session.scalar(db.select(Audit).filter_by(year=2025))


def client_for(app, who: str):
    client = app.test_client()
    assert login(client, who, DEMO_PASSWORD).status_code == 303
    return client


def post_issue(client, audit, data, token_from=None):
    page = token_from or f"/summary?audit={audit.id}&as_of=2026-01-31"
    return post_form(client, f"/summary/{audit.id}/issue", data, token_from=page)


def counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(IssuedReport)),
            db.session.scalar(select(func.count()).select_from(IssuedReportFile)))


def jobs() -> int:
    return db.session.scalar(select(func.count()).select_from(ReportJob))


def stored_files(app) -> list[Path]:
    root = Path(app.config["STORAGE_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def user(login_name: str) -> User:
    return db.session.scalar(select(User).filter_by(login=login_name))


# --- issuing from the page -------------------------------------------------------------------


@pytest.mark.parametrize("who", ["liaison", "audit"])
def test_issuing_stores_every_format_with_its_hash(app, audit, who):
    client = client_for(app, who)
    response = post_issue(client, audit, {"as_of": "2026-01-31", "confirm": "y"})
    assert response.status_code == 303
    assert response.location.endswith(f"/summary?audit={audit.id}&as_of=2026-01-31&job=1#job-1")
    waiting = client.get(response.location).get_data(as_text=True)
    assert "26.1.31. 기준 발행을 시작했습니다" in waiting
    assert 'id="job-1"' in waiting and "대기 중입니다" in waiting  # the worker has not run
    db.session.expire_all()
    assert counts() == (0, 0)
    assert run_queued_jobs(app) == ["done"]
    issued = db.session.scalar(select(IssuedReport))
    assert (issued.number, issued.as_of, issued.issued_by.login) == (1, REFERENCE, who)
    assert issued.issued_at is not None
    assert [f.format for f in issued.files] == list(FORMATS)
    store = file_store()
    for row in issued.files:
        data = store.path(row.storage_key).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row.sha256
        assert len(data) == row.size > 0
        assert row.file_name == f"2025 행정사무감사 처리결과('26.1.31. 기준)_제1판.{row.format}"
    assert list(store.tmp_dir.iterdir()) == []  # nothing left half-done
    page = client.get(response.location).get_data(as_text=True)
    assert "제1판을 발행했습니다" in page
    for row in issued.files:
        assert row.sha256 in page
        assert f"{row.size:,} 바이트" in page


def test_numbers_run_per_audit(app, audit, make):
    client = client_for(app, "liaison")
    for _ in range(2):
        assert post_issue(client, audit, {"as_of": "2026-01-31", "confirm": "y"}).status_code == 303
        assert run_queued_jobs(app) == ["done"]
    other = make.audit(year=2024)
    db.session.commit()
    result = issue(other, REFERENCE, user("liaison"))
    db.session.commit()
    numbers = db.session.execute(
        select(IssuedReport.audit_id, IssuedReport.number).order_by(IssuedReport.id)).all()
    assert numbers == [(audit.id, 1), (audit.id, 2), (other.id, 1)]
    assert result.issued.number == 1
    text = client.get(f"/summary?audit={audit.id}&as_of=2026-01-31").get_data(as_text=True)
    assert text.index("제2판") < text.index("제1판")  # newest first


@pytest.mark.parametrize("data, message", [
    ({"as_of": "2026-01-31"}, "확인란"),
    ({"as_of": "", "confirm": "y"}, "기준일"),
    ({"as_of": "{future}", "confirm": "y"}, "오늘보다 늦을 수 없습니다"),
])
def test_refused_issues_change_nothing(app, audit, data, message):
    future = (dates.today() + timedelta(days=3)).isoformat()
    data = {key: value.format(future=future) for key, value in data.items()}
    client = client_for(app, "liaison")
    response = post_issue(client, audit, data)
    assert response.status_code == 303  # back to the page, with the message
    assert message in client.get(response.location).get_data(as_text=True)
    db.session.expire_all()
    assert counts() == (0, 0)
    assert jobs() == 0
    assert [p for p in stored_files(app) if p.parent.name != "tmp"] == []
    assert list(file_store().tmp_dir.iterdir()) == []


@pytest.mark.parametrize("who", ["admin", "ai-companion"])
def test_only_liaison_and_audit_may_issue(app, audit, who):
    client = client_for(app, who)
    response = post_issue(client, audit, {"as_of": "2026-01-31", "confirm": "y"},
                          token_from=SIGNED_IN_PAGE)
    assert response.status_code == 403
    db.session.expire_all()
    assert counts() == (0, 0)
    assert jobs() == 0


def test_issue_needs_a_csrf_token(app, audit):
    client = client_for(app, "liaison")
    response = client.post(f"/summary/{audit.id}/issue", data={"as_of": "2026-01-31", "confirm": "y"})
    assert response.status_code == 400
    db.session.expire_all()
    assert counts() == (0, 0)


def test_issue_of_an_unknown_audit_is_404(app, audit):
    response = post_issue(client_for(app, "liaison"), audit, {"as_of": "2026-01-31", "confirm": "y"})
    assert response.status_code == 303
    client = client_for(app, "liaison")
    response = post_form(client, "/summary/9999/issue", {"as_of": "2026-01-31", "confirm": "y"},
                         token_from=f"/summary?audit={audit.id}")
    assert response.status_code == 404


# --- what was issued stays as it was -----------------------------------------------------------


def _issue_seed(app, audit) -> IssuedReport:
    client = client_for(app, "liaison")
    assert post_issue(client, audit, {"as_of": "2026-01-31", "confirm": "y"}).status_code == 303
    assert run_queued_jobs(app) == ["done"]
    db.session.expire_all()
    return db.session.scalar(select(IssuedReport))


def _later_edits(audit: Audit) -> None:
    """Today: a result text edit and a state change on the open item, a team change on item 1."""
    items = {rec.number: rec for rec in db.session.scalars(
        select(Recommendation).filter_by(audit_id=audit.id))}
    open_item = next(rec for rec in items.values() if rec.state == State.IN_PROGRESS)
    worker = db.session.scalar(select(User).filter_by(team_id=open_item.lead_team_id,
                                                      role="department"))
    ops.edit_result(open_item, worker, action_details="ㅇ 개선 종합계획 수립 완료(2026.3.)",
                    future_plan=None)
    ops.fire(open_item, "submit", worker)
    other_team = db.session.scalar(select(OrgUnit).filter_by(code="policy"))
    ops.assign(items[1], user("audit"), lead_team=other_team, supporting_teams=[])
    db.session.commit()


def test_issued_files_do_not_change_after_later_edits_and_regenerate_the_same(
        app, audit_rendered_each_time):
    audit = audit_rendered_each_time
    issued = _issue_seed(app, audit)
    store = file_store()
    before = {row.format: store.path(row.storage_key).read_bytes() for row in issued.files}
    _later_edits(audit)

    client = client_for(app, "audit")
    for row in issued.files:
        response = client.get(f"/summary/{audit.id}/issued/{issued.id}/{row.format}")
        assert response.status_code == 200
        assert response.data == before[row.format]
        assert hashlib.sha256(response.data).hexdigest() == row.sha256
        assert response.headers["ETag"].strip('"') == row.sha256
        assert "filename*=UTF-8''" in response.headers["Content-Disposition"]

    # Regenerated now for the same day: the same numbers and texts as issued.
    again = build_report(audit, REFERENCE)
    assert html.render(again) == before["html"].decode("utf-8")
    assert csv_items.render(again).encode("utf-8") == before["csv"]
    assert read_html(before["html"].decode()).items == read_html(html.render(again)).items
    assert read_pdf(before["pdf"]).text == read_pdf(rendered("pdf", again)).text
    # ...while today's report shows the edits.
    now = build_report(audit)
    assert read_csv(csv_items.render(now).encode())[1:] != read_csv(before["csv"])[1:]
    assert now.summary.total.counts[State.REVIEWING] == 1
    assert again.summary.total.counts[State.IN_PROGRESS] == 1


def test_a_second_edition_after_edits_has_new_files_and_the_first_is_kept(app, audit):
    first = _issue_seed(app, audit)
    first_hashes = {row.format: row.sha256 for row in first.files}
    _later_edits(audit)
    second = issue(audit, dates.today(), user("liaison")).issued
    db.session.commit()
    assert second.number == 2
    assert {row.format: row.sha256 for row in second.files}["csv"] != first_hashes["csv"]
    db.session.expire_all()
    assert {row.format: row.sha256 for row in db.session.get(IssuedReport, first.id).files} == first_hashes


def test_the_orm_refuses_to_change_or_delete_issued_versions(app, audit):
    issued = _issue_seed(app, audit)
    issued.as_of = date(2026, 1, 1)
    with pytest.raises(AppendOnlyViolation):
        db.session.flush()
    db.session.rollback()
    row = db.session.scalar(select(IssuedReportFile))
    row.sha256 = "0" * 64
    with pytest.raises(AppendOnlyViolation):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalar(select(IssuedReportFile)))
    with pytest.raises(AppendOnlyViolation):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalar(select(IssuedReport)))
    with pytest.raises(AppendOnlyViolation):
        db.session.flush()
    db.session.rollback()
    db.session.expire_all()
    assert counts() == (1, len(FORMATS))


def test_no_route_changes_or_deletes_an_issued_version(app, audit):
    issued = _issue_seed(app, audit)
    for rule in app.url_map.iter_rules():
        # 검증 posts a verify job, which reads the edition (tests/test_edition_verify.py).
        if "issued" in rule.rule and rule.endpoint != "summary.verify_edition":
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    client = client_for(app, "audit")
    url = f"/summary/{audit.id}/issued/{issued.id}/pdf"
    for method in ("post", "put", "delete", "patch"):
        assert getattr(client, method)(url).status_code in (400, 405)
    db.session.expire_all()
    assert counts() == (1, len(FORMATS))


def test_issued_downloads_are_for_readers_only(app, audit):
    issued = _issue_seed(app, audit)
    url = f"/summary/{audit.id}/issued/{issued.id}/csv"
    assert client_for(app, "ai-companion").get(url).status_code == 403
    assert client_for(app, "admin").get(url).status_code == 200
    anonymous = app.test_client().get(url)
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.location
    reader = client_for(app, "liaison")
    assert reader.get(f"/summary/{audit.id}/issued/{issued.id}/docx").status_code == 404
    assert reader.get(f"/summary/{audit.id}/issued/{issued.id + 1}/csv").status_code == 404
    assert reader.get(f"/summary/{audit.id + 1}/issued/{issued.id}/csv").status_code == 404


# --- files follow the transaction ---------------------------------------------------------------


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_a_rolled_back_issue_leaves_no_files(app, audit):
    issue(audit, REFERENCE, user("liaison"))
    assert list(file_store().tmp_dir.iterdir()), "the files wait in tmp until the commit"
    db.session.rollback()
    assert stored_files(app) == [] and list(file_store().keys()) == []
    assert counts() == (0, 0)


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_a_committed_issue_moves_its_files_into_place(app, audit):
    result = issue(audit, REFERENCE, user("audit"))
    keys = [row.storage_key for row in result.issued.files]
    assert not any(file_store().exists(key) for key in keys)
    db.session.commit()
    assert all(file_store().exists(key) for key in keys)
    assert sorted(file_store().keys()) == sorted(keys)
    assert list(file_store().tmp_dir.iterdir()) == []
    client = client_for(app, "audit")
    for row in result.issued.files:  # served from where they are kept, as issued
        response = client.get(f"/summary/{audit.id}/issued/{result.issued.id}/{row.format}")
        assert response.status_code == 200, row.format
        assert hashlib.sha256(response.data).hexdigest() == row.sha256


def test_issuing_without_a_writer_issues_the_others_and_says_so(app, audit, monkeypatch):
    monkeypatch.setitem(WRITERS, "hwpx", "auditflow.reports.no_such_writer")
    client = client_for(app, "liaison")
    response = post_issue(client, audit, {"as_of": "2026-01-31", "confirm": "y"})
    assert response.status_code == 303
    assert run_queued_jobs(app) == ["done"]
    page = client.get(response.location).get_data(as_text=True)
    assert "한글(HWPX) 형식은 아직 만들 수 없어 이번 판에 넣지 못했습니다." in page
    db.session.expire_all()
    assert [row.format for row in db.session.scalar(select(IssuedReport)).files] == [
        fmt for fmt in FORMATS if fmt != "hwpx"]
