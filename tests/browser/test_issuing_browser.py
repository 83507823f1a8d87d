"""발행 in a real browser with a real worker: the liaison clicks 발행, the page shows the bar
moving format by format, and the files appear on the same page without a reload; a large
report's PDF is made the same way and downloaded. Every page and state met is checked with
axe-core at 1440 and 390 px wide, and no page needs inline script (CSP)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from auditflow.extensions import db
from auditflow.models import IssuedReport, ReportJob
from auditflow.reports import FORMATS
from auditflow.reports.summary import latest_audit
from tests.browser.test_follow_up_story import FollowUp
from tests.job_helpers import make_writers_slow
from tests.mail_helpers import Worker

pytestmark = pytest.mark.browser

# The bar and the text the page shows, read in the browser.
BAR = """(id) => { const b = document.querySelector(`#job-${id} progress`);
                   return b ? [b.value, b.max] : null; }"""


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


def test_the_liaison_issues_and_the_files_appear_without_a_reload(
        app, seeded, live_server, browser, axe_report, worker, monkeypatch, tmp_path: Path):
    slow = make_writers_slow(monkeypatch)
    slow["pause"] = 0.06  # about 0.8 s a format: the bar is seen on its way
    audit = latest_audit()
    story = FollowUp(browser, live_server, axe_report)
    try:
        page = story.sign_in("liaison", "의회 담당관")
        story.goto(f"/summary?audit={audit.id}&as_of=2026-01-31", "처리결과 총괄표")
        confirm = page.get_by_label("발행한 보고서는 고치거나 지울 수 없음을 확인했습니다.")
        page.locator("label[for='confirm']").click()  # KRDS draws the box on the label
        assert confirm.is_checked()
        story.submit(page.get_by_role("button", name="발행", exact=True), "발행 시작")
        assert "기준 발행을 시작했습니다" in story.flash()
        job_id = db.session.scalar(select(ReportJob.id))
        assert page.url.endswith(f"&job={job_id}#job-{job_id}")
        page.evaluate("() => { window.stayedOnThisPage = true; }")  # gone if the page reloads

        panel = page.locator(f"#job-{job_id}")
        assert panel.is_visible()
        status = panel.get_by_role("status")
        assert "기준 보고서 발행" in status.inner_text()
        # The bar moves while the worker works: seen part-way, then full.
        page.wait_for_function(f"() => ({BAR})({job_id}) && ({BAR})({job_id})[0] > 0 "
                               f"&& ({BAR})({job_id})[0] < ({BAR})({job_id})[1]", timeout=20000)
        value, maximum = page.evaluate(BAR, job_id)
        assert 0 < value < maximum == len(FORMATS) * 12
        assert "만드는 중" in panel.locator(".report-job-steps").inner_text()
        assert panel.get_by_role("link", name="진행 상황 새로 보기").is_hidden()  # the script follows
        story.check("발행 진행 중")

        files = panel.locator(".job-files a")
        files.first.wait_for(timeout=30000)
        assert page.evaluate("() => window.stayedOnThisPage === true")  # no reload
        assert page.evaluate(BAR, job_id) == [maximum, maximum]
        assert status.inner_text().startswith("제1판을 발행했습니다 ('26.1.31. 기준, 파일 5개)")
        assert files.count() == len(FORMATS)
        # The 발행 이력 table below has the edition too, with its hashes.
        db.session.expire_all()
        issued = db.session.scalar(select(IssuedReport))
        history = page.locator("#issued-list").inner_text()
        assert "제1판" in history and all(row.sha256 in history for row in issued.files)
        story.check("발행 완료")
        pdf = next(row for row in issued.files if row.format == "pdf")
        href = panel.locator(".job-files a", has_text=pdf.file_name).get_attribute("href")
        body = page.request.get(live_server + href).body()
        assert hashlib.sha256(body).hexdigest() == pdf.sha256

        # The job's own page, for a browser without script.
        story.goto(f"/summary/jobs/{job_id}", "발행 작업 진행 상황")
        assert "제1판을 발행했습니다" in page.get_by_role("status").inner_text()

        # ---- a large report: the PDF is made by the worker too, and downloaded from the page
        app.config["DIRECT_DOWNLOAD_MAX_ITEMS"] = dict(app.config["DIRECT_DOWNLOAD_MAX_ITEMS"], pdf=5)
        story.goto(f"/summary?audit={audit.id}&as_of=2026-01-31", "처리결과 총괄표(큰 보고서)")
        story.submit(page.get_by_role("button", name="PDF 파일 만들기"), "PDF 파일 만들기 시작")
        download_job = db.session.scalar(select(ReportJob.id).where(ReportJob.kind == "download"))
        button = page.locator(f"#job-{download_job}").get_by_role("link", name="PDF 내려받기")
        button.wait_for(timeout=30000)
        story.check("PDF 파일 완료")
        with page.expect_download() as download_info:
            button.click()
        downloaded = Path(download_info.value.path()).read_bytes()
        assert downloaded.startswith(b"%PDF")
        assert download_info.value.suggested_filename.endswith(".pdf")
        assert story.csp_reports == []
    except BaseException:
        if story.page is not None:
            shot = tmp_path / "issuing-failure.png"
            story.page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of {story.page.url}: {shot}")
        raise
    finally:
        story.close()
        print(f"axe-core checked {len(axe_report.pages)} pages")
        if axe_report.failures:
            print(axe_report.describe())
    assert not axe_report.failures, axe_report.describe()
