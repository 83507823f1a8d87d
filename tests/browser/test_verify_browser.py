"""검증 in a real browser with a real worker: the liaison presses 검증 on an edition of the
발행 이력, the page follows the job and shows 일치 file by file as the worker finishes; after a
kept file is changed, the next 검증 names it. Checked with axe-core at 1440 and 390 px."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from auditflow.extensions import db
from auditflow.models import ReportJob, User
from auditflow.reports import FORMATS, WRITERS
from auditflow.reports.summary import latest_audit
from auditflow.services.issuing import issue
from auditflow.storage.transactional import file_store
from tests.browser.test_follow_up_story import FollowUp
from tests.mail_helpers import Worker

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config() -> dict[str, object]:
    return {"REPORT_JOB_HEARTBEAT_SECONDS": 0.2, "REPORT_JOB_STALE_SECONDS": 5}


@pytest.fixture
def worker(app) -> Iterator[Worker]:
    running = Worker(app)
    running.huey.flush()
    running.start()
    yield running
    running.stop()


def test_the_liaison_verifies_an_edition_and_sees_a_changed_file_named(
        app, seeded, live_server, browser, axe_report, worker, monkeypatch, tmp_path: Path):
    for fmt in FORMATS:  # two small formats keep the story short; all five: test_edition_verify
        if fmt not in ("csv", "html"):
            monkeypatch.setitem(WRITERS, fmt, "auditflow.reports.no_such_writer")
    audit = latest_audit()
    liaison = db.session.scalar(select(User).filter_by(login="liaison"))
    edition = issue(audit, date(2026, 1, 31), liaison).issued
    db.session.commit()
    story = FollowUp(browser, live_server, axe_report)
    try:
        page = story.sign_in("liaison", "의회 담당관")
        story.goto(f"/summary?audit={audit.id}&as_of=2026-01-31", "처리결과 총괄표(발행 이력)")
        story.submit(page.get_by_role("button", name="검증 (제1판)"), "검증 시작")
        assert "제1판 검증을 시작했습니다" in story.flash()
        job_id = db.session.scalar(select(ReportJob.id).where(ReportJob.kind == "verify"))
        panel = page.locator(f"#job-{job_id}")
        status = panel.get_by_role("status")
        panel.locator(".verification-list").wait_for(timeout=30000)
        assert status.inner_text().startswith("제1판: 일치")
        table = panel.locator(".verification-list").inner_text()
        for file in edition.files:
            assert file.file_name in table
        assert "불일치" not in table
        story.check("검증 일치")

        html_file = next(file for file in edition.files if file.format == "html")
        file_store().path(html_file.storage_key).write_bytes(b"<p>changed</p>")
        story.submit(page.get_by_role("button", name="검증 (제1판)"), "다시 검증")
        db.session.expire_all()
        second = db.session.scalar(select(ReportJob.id).where(ReportJob.kind == "verify")
                                   .order_by(ReportJob.id.desc()))
        assert second != job_id
        panel = page.locator(f"#job-{second}")
        panel.locator(".verification-list").wait_for(timeout=30000)
        assert "불일치" in panel.get_by_role("status").inner_text()
        row = panel.locator(".verification-mismatch").inner_text()
        assert html_file.file_name in row and "[file_changed]" in row
        story.check("검증 불일치")

        # 판 비교: an edition of an earlier day, compared item by item with the first.
        earlier = issue(audit, date(2025, 11, 30), liaison).issued
        db.session.commit()
        story.goto(f"/summary?audit={audit.id}&as_of=2026-01-31", "처리결과 총괄표(두 판)")
        page.get_by_role("link", name="이전 판과 비교 (제1판과 제2판)").click()
        page.wait_for_load_state()
        story.check("판 비교")
        assert page.locator("h2#compare-title").inner_text().startswith("제1판")
        assert page.locator("table.edition-diff tbody tr").count() > 0
        assert earlier.number == 2
        assert story.csp_reports == []
    except BaseException:
        if story.page is not None:
            shot = tmp_path / "verify-failure.png"
            story.page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of {story.page.url}: {shot}")
        raise
    finally:
        story.close()
        if axe_report.failures:
            print(axe_report.describe())
    assert not axe_report.failures, axe_report.describe()
