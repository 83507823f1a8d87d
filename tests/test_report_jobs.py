"""발행 and large downloads as report jobs: the rules (joining, stale workers, lost jobs,
refusals, downloads), through the services and the task body without a queue.

tests/test_report_jobs_worker.py runs them with a real worker on both queues.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Audit, IssuedReport, ReportJob, User, utcnow
from auditflow.reports import FORMATS, csv_items
from auditflow.reports.content import build_report
from auditflow.services import issuing, report_jobs
from auditflow.storage.transactional import file_store
from auditflow.vocabulary import ReportJobState
from tests.auth_helpers import post_form
from tests.job_helpers import (
    client_for,
    editions,
    job,
    job_id_of,
    kept_files,
    post_issue,
    run_queued_jobs,
)

REFERENCE = date(2026, 1, 31)
FAST = {"REPORT_JOB_HEARTBEAT_SECONDS": 0.2, "REPORT_JOB_STALE_SECONDS": 1}


@pytest.fixture
def audit(seeded, render_once) -> Audit:
    found = db.session.scalar(select(Audit).filter_by(year=2025))
    assert found is not None
    return found


def user(login_name: str) -> User:
    found = db.session.scalar(select(User).filter_by(login=login_name))
    assert found is not None
    return found


@pytest.fixture
def app_config() -> dict[str, object]:
    return dict(FAST)


# --- the rules ---------------------------------------------------------------------------------


def test_two_requests_at_the_same_moment_make_one_job(app, audit):
    users = [user("liaison").id, user("audit").id]
    audit_id = audit.id
    db.session.commit()
    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[Any] = []

    def ask(user_id: int) -> None:
        with app.app_context():
            try:
                who = db.session.get(User, user_id)
                target = db.session.get(Audit, audit_id)
                barrier.wait()
                started = report_jobs.start_issue(target, REFERENCE, who)
                db.session.commit()
                outcomes.append((started.job.id, started.joined))
            except Exception as error:  # anything else fails the test
                db.session.rollback()
                outcomes.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=ask, args=(user_id,)) for user_id in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == 2 and all(isinstance(o, tuple) for o in outcomes), outcomes
    assert len({job_id for job_id, _ in outcomes}) == 1
    assert sorted(joined for _, joined in outcomes) == [False, True]
    assert db.session.scalar(select(func.count()).select_from(ReportJob)) == 1


def test_editions_of_two_days_finishing_together_take_the_next_numbers(app, audit):
    liaison_id, audit_id = user("liaison").id, audit.id
    db.session.commit()
    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[Any] = []

    def issue(day: date) -> None:
        with app.app_context():
            try:
                who = db.session.get(User, liaison_id)
                target = db.session.get(Audit, audit_id)
                barrier.wait()
                outcomes.append(issuing.issue(target, day, who).issued.number)
                db.session.commit()
            except Exception as error:  # anything else fails the test
                db.session.rollback()
                outcomes.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issue, args=(day,))
               for day in (REFERENCE, REFERENCE - timedelta(days=1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == [1, 2], outcomes
    assert editions() == (2, 2 * len(FORMATS))


def test_refusals_start_nothing(app, audit):
    with pytest.raises(Exception, match="의회 담당관"):
        report_jobs.start_issue(audit, REFERENCE, user("ai-companion"))
    with pytest.raises(Exception, match="오늘보다 늦을 수 없습니다"):
        report_jobs.start_issue(audit, dates.today() + timedelta(days=1), user("liaison"))
    with pytest.raises(Exception, match="알 수 없는 형식"):
        report_jobs.start_download(audit, REFERENCE, "docx", user("liaison"))
    assert db.session.scalar(select(func.count()).select_from(ReportJob)) == 0


def _running(audit: Audit, *, heartbeat_ago: float, started_ago: float = 0) -> report_jobs.Claimed:
    started = report_jobs.start_issue(audit, REFERENCE, user("liaison"))
    db.session.commit()
    claimed = report_jobs.claim(started.job.id)
    assert claimed is not None
    now = utcnow()
    db.session.execute(update(ReportJob).where(ReportJob.id == claimed.id).values(
        heartbeat_at=now - timedelta(seconds=heartbeat_ago),
        started_at=now - timedelta(seconds=max(started_ago, heartbeat_ago))))
    db.session.commit()
    return claimed


def test_a_job_whose_worker_died_is_taken_again_then_failed(app, audit):
    claimed = _running(audit, heartbeat_ago=5)
    assert "작업자의 응답이 5초째 없습니다" in report_jobs.status(job(claimed.id)).text
    swept = report_jobs.sweep()
    assert db.session.info.get(report_jobs.TO_QUEUE) == [claimed.id]  # queued at the commit
    db.session.commit()
    again = job(claimed.id)
    assert (again.state, again.attempts, swept.failed) == ("queued", 1, 0)
    # The second worker dies too: now it says so, and the day is free again.
    second = report_jobs.claim(claimed.id)
    assert second is not None and second.attempt == 2
    db.session.execute(update(ReportJob).where(ReportJob.id == claimed.id).values(
        heartbeat_at=utcnow() - timedelta(seconds=5)))
    db.session.commit()
    started = report_jobs.start_issue(audit, REFERENCE, user("audit"))
    db.session.commit()
    assert not started.joined and started.job.id != claimed.id
    dead = job(claimed.id)
    assert dead.state == "failed"
    assert dead.error == ("작업자가 응답하지 않아 발행을 마치지 못했습니다(2번 시도). 다시 발행하세요. "
                          "되풀이되면 관리자에게 알려 주세요.")


def test_the_worker_sweep_gives_a_dead_workers_edition_to_the_next(app, audit):
    claimed = _running(audit, heartbeat_ago=5)  # its worker died mid-way
    queue = app.extensions["auditflow.jobs"]
    queue.huey.flush()
    assert queue.sweep_report_jobs.call_local() == 0  # taken again: queued by its commit
    assert queue.huey.pending_count() == 1
    assert run_queued_jobs(app) == ["done"]
    found = job(claimed.id)
    assert (found.state, found.attempts) == ("done", 2)
    assert editions() == (1, len(FORMATS))
    queue.huey.flush()


def test_a_worker_that_shows_life_as_it_is_judged_keeps_its_job(app, audit):
    claimed = _running(audit, heartbeat_ago=5)
    seen = job(claimed.id)  # judged silent from this copy...
    with db.engine.begin() as connection:  # ...while its tracker writes a heartbeat
        connection.execute(update(ReportJob).where(ReportJob.id == claimed.id)
                           .values(heartbeat_at=utcnow()))
    assert report_jobs.recover(seen) is True
    db.session.commit()
    found = job(claimed.id)
    assert (found.state, found.attempts) == ("running", 1)
    assert db.session.info.get(report_jobs.TO_QUEUE) is None


def test_a_live_job_is_joined_not_taken(app, audit):
    claimed = _running(audit, heartbeat_ago=0.1)
    started = report_jobs.start_issue(audit, REFERENCE, user("audit"))
    assert started.joined and started.job.id == claimed.id
    assert report_jobs.sweep().requeue == []
    assert job(claimed.id).state == "running"


def test_a_job_that_runs_too_long_is_failed(app, audit):
    claimed = _running(audit, heartbeat_ago=0.1, started_ago=31 * 60)
    assert report_jobs.sweep().failed == 1
    db.session.commit()
    assert job(claimed.id).error.startswith("30분이 지나도 끝나지 않아 중단했습니다. 다시 발행하세요.")


def test_a_worker_that_lost_its_job_keeps_nothing(app, audit):
    claimed = _running(audit, heartbeat_ago=0.1)
    # Meanwhile the job was taken again, as if this worker had looked dead.
    db.session.execute(update(ReportJob).where(ReportJob.id == claimed.id).values(
        attempts=ReportJob.attempts + 1))
    db.session.commit()
    with pytest.raises(report_jobs.JobLost):
        report_jobs.run(claimed)
    db.session.rollback()
    assert editions() == (0, 0)
    assert kept_files(app) == [] and list(file_store().tmp_dir.iterdir()) == []
    assert job(claimed.id).state == "running"  # the other attempt's, untouched


def test_the_sweep_queues_again_what_waits_too_long(app, audit):
    started = report_jobs.start_issue(audit, REFERENCE, user("liaison"))
    db.session.commit()
    assert report_jobs.sweep().requeue == []
    db.session.execute(update(ReportJob).values(heartbeat_at=utcnow() - timedelta(minutes=2)))
    db.session.commit()
    assert report_jobs.sweep().requeue == [started.job.id]
    # A queued job nobody took for a while: the page says so.
    assert "작업자가 아직 시작하지 않았습니다" in report_jobs.status(job(started.job.id)).text


def test_a_refusal_at_run_time_is_the_jobs_message(app, audit):
    client = client_for(app, "liaison")
    job_id = job_id_of(post_issue(client, audit.id))
    team = user("ai-companion").team
    liaison = user("liaison")
    liaison.team, liaison.role = team, "department"  # no right to issue by the time it runs
    db.session.commit()
    assert run_queued_jobs(app) == ["failed"]
    assert job(job_id).error == ("보고서 발행은 감사팀·의회 담당관만 할 수 있습니다. (발행하지 않았습니다.)")
    assert editions() == (0, 0)


def test_running_a_job_twice_changes_nothing_more(app, audit):
    client = client_for(app, "liaison")
    job_id = job_id_of(post_issue(client, audit.id))
    task = app.extensions["auditflow.jobs"].make_report
    db.session.commit()
    assert task.call_local(job_id) == "done"
    assert task.call_local(job_id) == "skipped"
    assert editions() == (1, len(FORMATS))


def test_the_status_page_works_without_script(app, audit):
    client = client_for(app, "audit")
    job_id = job_id_of(post_issue(client, audit.id))
    page = client.get(f"/summary/jobs/{job_id}").get_data(as_text=True)
    assert f'<progress class="report-job-bar" id="job-{job_id}-bar" max="5" value="0"' in page
    assert 'role="status"' in page and "대기 중입니다" in page
    assert f'href="/summary/jobs/{job_id}">진행 상황 새로 보기</a>' in page
    run_queued_jobs(app)
    page = client.get(f"/summary/jobs/{job_id}").get_data(as_text=True)
    assert "제1판을 발행했습니다" in page and "진행 상황 새로 보기" not in page
    issued = db.session.scalar(select(IssuedReport))
    assert f"/summary/{audit.id}/issued/{issued.id}/pdf" in page
    # Everyone who reads reports sees a job under way on the summary page.
    job_id = job_id_of(post_issue(client, audit.id, "2026-01-30"))
    shown = client_for(app, "admin").get(f"/summary?audit={audit.id}").get_data(as_text=True)
    assert f'id="job-{job_id}"' in shown and "30. 기준 발행" in shown
    assert client.get("/summary/jobs/999/status").status_code == 404


# --- downloads of a large report ---------------------------------------------------------------


@pytest.fixture
def small_limits(app):
    """As if the seed's 12 items were a large report for the CSV and the PDF."""
    limits = dict(app.config["DIRECT_DOWNLOAD_MAX_ITEMS"], csv=5, pdf=5)
    app.config["DIRECT_DOWNLOAD_MAX_ITEMS"] = limits
    return limits


def test_a_report_for_the_worker_is_not_built_in_the_request(app, audit, small_limits,
                                                               monkeypatch):
    """Counted (the 총괄 table's 계), not built: building it is the worker's long work."""
    from auditflow.api import v1
    from auditflow.web.summary import routes

    def refused(*_args, **_kwargs):
        raise AssertionError("the report was built in the request")

    monkeypatch.setattr(routes, "build_report", refused)
    monkeypatch.setattr(v1, "build_report", refused)
    app.config["DIRECT_DOWNLOAD_MAX_ITEMS"] = dict(small_limits, html=5)
    client = client_for(app, "liaison")
    for path in (f"/summary/{audit.id}/report.csv?as_of=2026-01-31",
                 f"/summary/{audit.id}/print?as_of=2026-01-31"):
        answer = client.get(path)
        assert answer.status_code == 303 and "#downloads-title" in answer.location, path
    flashed = client.get(answer.location).get_data(as_text=True)
    assert f"요구사항이 {report_jobs.report_items(audit, REFERENCE)}건이라" in flashed


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_a_large_download_is_made_by_the_worker(app, audit, small_limits):
    client = client_for(app, "liaison")
    summary = f"/summary?audit={audit.id}&as_of=2026-01-31"
    page = client.get(summary).get_data(as_text=True)
    assert "CSV 파일 만들기" in page and "PDF 파일 만들기" in page
    assert f"/summary/{audit.id}/report.xlsx" in page  # small enough: a plain link, as before
    # An old link to the file goes to the page, which says what to do.
    direct = client.get(f"/summary/{audit.id}/report.csv?as_of=2026-01-31")
    assert direct.status_code == 303 and "#downloads-title" in direct.location
    assert "CSV 파일 만들기" in client.get(direct.location).get_data(as_text=True)

    data = {"fmt": "csv", "as_of": "2026-01-31", "due_changes": "1"}
    first = post_form(client, f"/summary/{audit.id}/downloads", data, token_from=summary)
    again = post_form(client, f"/summary/{audit.id}/downloads", data, token_from=summary)
    assert job_id_of(first) == job_id_of(again)  # the same file is made once
    assert "같은 CSV 파일을 이미 만들고 있어" in client.get(again.location).get_data(as_text=True)
    job_id = job_id_of(first)
    assert client.get(f"/summary/jobs/{job_id}/file").status_code == 404  # not yet
    assert run_queued_jobs(app) == ["done"]
    body = client.get(f"/summary/jobs/{job_id}/status").get_json()
    assert body["state"] == "done" and f"/summary/jobs/{job_id}/file" in body["result_html"]
    assert body["text"] == "'26.1.31. 기준 CSV 파일을 만들었습니다. 아래에서 내려받으세요."
    response = client.get(f"/summary/jobs/{job_id}/file")
    assert response.status_code == 200
    expected = csv_items.render(build_report(audit, REFERENCE)).encode("utf-8")
    assert response.data == expected
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert editions() == (0, 0)  # a download is not an edition


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_downloads_are_kept_for_a_day(app, audit):
    started = report_jobs.start_download(audit, REFERENCE, "csv", user("liaison"))
    db.session.commit()
    assert run_queued_jobs(app) == ["done"]
    made = job(started.job.id)
    assert file_store().exists(made.file_key)
    report_jobs.sweep()
    db.session.commit()
    assert file_store().exists(made.file_key)
    db.session.execute(update(ReportJob).values(finished_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    assert report_jobs.sweep().removed_files == 1
    db.session.commit()
    assert not file_store().exists(made.file_key)
    assert db.session.scalar(select(func.count()).select_from(ReportJob)) == 0



@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_a_rolled_back_sweep_keeps_the_download_and_its_file(app, audit):
    started = report_jobs.start_download(audit, REFERENCE, "csv", user("liaison"))
    db.session.commit()
    assert run_queued_jobs(app) == ["done"]
    made = job(started.job.id)
    key = made.file_key
    db.session.execute(update(ReportJob).values(finished_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    assert report_jobs.sweep().removed_files == 1
    assert file_store().exists(key)  # removed only once the row's deletion is committed
    db.session.rollback()
    assert file_store().exists(key)
    assert db.session.scalar(select(func.count()).select_from(ReportJob)) == 1
    assert report_jobs.sweep().removed_files == 1
    db.session.commit()
    assert not file_store().exists(key)

def test_a_download_with_the_section_off_is_another_file(app, audit):
    liaison = user("liaison")
    on = report_jobs.start_download(audit, REFERENCE, "pdf", liaison)
    off = report_jobs.start_download(audit, REFERENCE, "pdf", liaison, include_due_changes=False)
    same = report_jobs.start_download(audit, REFERENCE, "pdf", user("audit"))
    assert on.job.id != off.job.id and same.job.id == on.job.id and same.joined
    assert ReportJobState(job(on.job.id).state) is ReportJobState.QUEUED
