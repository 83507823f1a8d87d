"""The whole story in a real browser, as the three kinds of users live it.

The audit team registers a recommendation and assigns it; the team signs in,
starts, writes its result, uploads a HWPX and a PDF, submits; the audit team
returns it once with a reason; the team fixes it and submits again; the audit
team approves; the council liaison sees the summary changed.

Every page the story visits is checked with axe-core: no violation of impact
serious or critical. The pages keep their Content-Security-Policy (axe is
loaded as an init script, which CSP does not govern), so the story also
proves no page needs inline script or style: any CSP report in the console
fails it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Evidence, History, OrgUnit, Recommendation
from auditflow.reports.summary import latest_audit
from auditflow.vocabulary import Category
from tests.browser.conftest import AxeReport
from tests.conftest import DEMO_PASSWORD
from tests.test_storage import make_pdf, sample

TEAM_LOGIN = "ai-companion"  # seed/demo_users.yaml: one user per team, login = team code
COUNCIL_TEXT = "디지털배움터 교육 만족도 조사 결과를 분석하여 교육과정 개선 방안을 마련하기 바람."
RETURN_REASON = "교육과정 개선 일정이 빠져 있습니다. 분기별 일정을 추가해 주세요."
FIRST_RESULT = "ㅇ 2025년 디지털배움터 만족도 조사 결과 분석 완료\n  - 응답자 1,204명, 만족도 4.3점"
FIXED_RESULT = FIRST_RESULT + "\nㅇ 교육과정 개선 일정 수립\n  - 1분기 교재 개편, 2분기 강사 연수"


class Story:
    """One browser context per person; every page they reach is checked."""

    def __init__(self, browser: Any, base_url: str, report: AxeReport) -> None:
        self.browser = browser
        self.base_url = base_url
        self.report = report
        self.csp_reports: list[str] = []
        self.page: Any = None
        self.context: Any = None

    def sign_in(self, login: str, who: str) -> Any:
        if self.context is not None:
            self.context.close()
        self.context = self.browser.new_context(
            base_url=self.base_url, locale="ko-KR", timezone_id="Asia/Seoul",
            accept_downloads=True,
        )
        self.report.prepare(self.context)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.who = who
        self.goto("/login", "로그인")
        self.page.get_by_label("아이디").fill(login)
        self.page.get_by_label("비밀번호").fill(DEMO_PASSWORD)
        self.submit(self.page.get_by_role("button", name="로그인"), "로그인 후 홈")
        assert self.page.url == self.base_url + "/", f"{login} was not signed in: {self.page.url}"
        return self.page

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.csp_reports.append(f"{self.page.url}: {message.text}")

    def check(self, label: str) -> None:
        self.report.check(self.page, f"{self.who} · {label}")

    def goto(self, path: str, label: str) -> None:
        response = self.page.goto(path)
        assert response is not None and response.ok, f"GET {path}: {response and response.status}"
        self.check(label)

    def submit(self, button: Any, label: str) -> None:
        """Click a button that posts a form; check the page the browser lands on."""
        with self.page.expect_navigation():
            button.click()
        self.page.wait_for_load_state()
        self.check(label)

    def flash(self) -> str:
        return " ".join(self.page.locator(".app-flash").all_inner_texts())

    def state(self) -> str:
        return self.page.locator(".page-head .state-badge").inner_text().strip()

    def close(self) -> None:
        if self.context is not None:
            self.context.close()


def summary_counts(story: Story, category_label: str) -> dict[str, int]:
    """The liaison's 조치내역 table: the category's row, by column title (blank = 0)."""
    table = story.page.locator("table").first
    header = [c.strip() for c in table.locator("thead th").all_inner_texts()]
    for row in table.locator("tbody tr").all():
        cells = [c.strip() for c in row.locator("th, td").all_inner_texts()]
        if cells and cells[0] == category_label:
            return {title: int(cell or 0) for title, cell in zip(header[1:], cells[1:], strict=True)}
    raise AssertionError(
        f"no row {category_label!r} in the summary table {header} of {story.page.url}:\n"
        + story.page.inner_text("main")[:2000]
    )


def test_story_from_registration_to_the_summary(app, seeded, live_server, browser, axe_report,
                                                tmp_path: Path):
    audit = latest_audit()
    team = db.session.scalar(db.select(OrgUnit).where(OrgUnit.code == TEAM_LOGIN))
    category = Category.SUGGESTION
    hwpx = sample("seoul_sihaengmun.hwpx")
    pdf = tmp_path / "만족도 조사 결과.pdf"
    pdf.write_bytes(make_pdf())
    due = dates.today() + timedelta(days=60)
    report = axe_report
    story = Story(browser, live_server, report)
    try:
        # ---- the liaison's summary before anything happens
        page = story.sign_in("liaison", "의회 담당관")
        story.goto("/summary", "처리결과 총괄표(전)")
        before = summary_counts(story, category.label)

        # ---- the audit team registers the recommendation, then assigns it
        page = story.sign_in("audit", "감사팀")
        with page.expect_navigation():
            page.get_by_role("link", name="요구사항 등록").click()
        story.check("요구사항 등록")
        page.get_by_label("감사", exact=True).select_option(label=audit.title)
        number = db.session.scalar(
            db.select(db.func.max(Recommendation.number)).where(Recommendation.audit_id == audit.id)
        ) + 1
        page.get_by_label("번호").fill(str(number))
        page.get_by_label("구분").select_option(label=category.label)
        page.get_by_label("요구사항 내용").fill(COUNCIL_TEXT)
        story.submit(page.get_by_role("button", name="등록"), "요구사항(등록 직후)")
        assert "등록했습니다" in story.flash()
        assert story.state() == "접수"
        item_url = page.url.split("#")[0]
        item_id = int(re.search(r"/recommendations/(\d+)$", item_url).group(1))

        with page.expect_navigation():
            page.get_by_role("link", name="담당 부서 지정").click()
        story.check("담당 부서 지정")
        page.get_by_label("주관 부서").select_option(label=team.name)
        story.submit(page.get_by_role("button", name="저장"), "요구사항(지정 후)")
        assert "담당 부서를 지정했습니다" in story.flash()
        with page.expect_navigation():
            page.get_by_role("link", name=re.compile("처리 기한")).click()
        story.check("처리 기한 지정")
        page.get_by_label("처리 기한").fill(due.isoformat())
        story.submit(page.get_by_role("button", name="저장"), "요구사항(기한 지정 후)")
        assert team.name in page.locator(".item-facts").inner_text()

        # ---- the team starts, writes its result, uploads a HWPX and a PDF, submits
        page = story.sign_in(TEAM_LOGIN, "AI동행팀")
        with page.expect_navigation():
            page.get_by_role("link", name=re.compile(re.escape(COUNCIL_TEXT[:20]))).first.click()
        story.check("요구사항(접수)")
        story.submit(page.get_by_role("button", name="추진 시작"), "요구사항(추진 중)")
        assert story.state() == "추진 중"
        page.get_by_role("textbox", name="추진내용").fill(FIRST_RESULT)
        story.submit(page.get_by_role("button", name="조치결과 저장"), "요구사항(결과 작성)")
        assert "조치결과를 저장했습니다" in story.flash()

        page.get_by_label("증빙자료 파일 선택").set_input_files([hwpx, pdf])
        story.submit(page.get_by_role("button", name="선택한 파일 올리기"), "요구사항(증빙 업로드)")
        assert "증빙자료 2개를 올렸습니다" in story.flash()
        panel = page.locator("#evidence")
        assert hwpx.name in panel.inner_text() and pdf.name in panel.inner_text()
        # The session's first evidence download asks its reason first (접속기록), then downloads.
        panel.get_by_role("link", name=re.compile(re.escape(pdf.name))).click()
        page.wait_for_load_state("load")
        story.check("증빙자료 내려받기 사유")
        page.get_by_label("내려받는 사유").fill("처리결과 확인")
        with page.expect_download() as download_info:
            page.get_by_role("button", name="사유 기록 후 내려받기").click()
        download = download_info.value
        assert download.suggested_filename == pdf.name
        assert Path(download.path()).read_bytes() == pdf.read_bytes()
        with page.expect_navigation():
            page.get_by_role("link", name="요구사항으로 돌아가기").click()

        story.submit(page.get_by_role("button", name="검토 요청(제출)"), "요구사항(제출)")
        assert story.state() == "검토 중"
        assert page.get_by_label("증빙자료 파일 선택").count() == 0  # locked after submission

        # ---- the audit team returns it once, with a reason
        page = story.sign_in("audit", "감사팀")
        with page.expect_navigation():
            page.get_by_role("link", name=re.compile(re.escape(COUNCIL_TEXT[:20]))).first.click()
        story.check("요구사항(검토 중)")
        page.get_by_label("보완 요청 사유").fill(RETURN_REASON)
        story.submit(page.get_by_role("button", name="보완 요청"), "요구사항(보완 요청)")
        assert story.state() == "추진 중"
        assert RETURN_REASON in page.inner_text("main")

        # ---- the team fixes its result and submits again
        page = story.sign_in(TEAM_LOGIN, "AI동행팀")
        story.goto(f"/recommendations/{item_id}", "요구사항(보완 중)")
        assert RETURN_REASON in page.inner_text("main")
        page.get_by_role("textbox", name="추진내용").fill(FIXED_RESULT)
        story.submit(page.get_by_role("button", name="조치결과 저장"), "요구사항(보완 작성)")
        story.submit(page.get_by_role("button", name="검토 요청(제출)"), "요구사항(재제출)")
        assert story.state() == "검토 중"

        # ---- the audit team approves
        page = story.sign_in("audit", "감사팀")
        story.goto(f"/recommendations/{item_id}", "요구사항(재검토)")
        story.submit(page.get_by_role("button", name="승인(완료)"), "요구사항(완료)")
        assert story.state() == "완료"

        # ---- the liaison sees the summary changed
        page = story.sign_in("liaison", "의회 담당관")
        story.goto("/summary", "처리결과 총괄표(후)")
        after = summary_counts(story, category.label)
        assert after["계"] == before["계"] + 1, (before, after)
        assert after["완료"] == before["완료"] + 1, (before, after)
        assert {k: v for k, v in after.items() if k not in ("계", "완료")} == {
            k: v for k, v in before.items() if k not in ("계", "완료")
        }
        story.goto(f"/recommendations/{item_id}", "요구사항(의회 담당관)")
        assert page.get_by_label("증빙자료 파일 선택").count() == 0
    except BaseException:
        if story.page is not None:  # where the story stopped, for whoever reads the failure
            shot = tmp_path / "story-failure.png"
            story.page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of {story.page.url}: {shot}")
        raise
    finally:
        story.close()
        print(f"axe-core checked {len(report.pages)} pages")
        if report.failures:
            print(report.describe())
        for finding, where in sorted(report.minor.items()):
            print(f"axe (not blocking) {finding} — on {len(where)} page(s), e.g. {sorted(where)[0]}")

    # What the browser did is what the database holds.
    db.session.expire_all()
    item = db.session.get(Recommendation, item_id)
    assert (item.audit_id, item.lead_team_id, item.state, item.due_date) == (
        audit.id, team.id, "completed", due
    )
    assert item.action_details == FIXED_RESULT
    assert sorted(e.original_name for e in db.session.scalars(
        db.select(Evidence).where(Evidence.recommendation_id == item_id)
    )) == sorted([hwpx.name, pdf.name])
    triggers = db.session.scalars(
        db.select(History.trigger).where(History.recommendation_id == item_id,
                                         History.kind == "transition").order_by(History.at, History.id)
    ).all()
    assert triggers == ["start", "submit", "return_for_rework", "submit", "approve"]

    assert not report.failures, "serious or critical accessibility violations:\n" + report.describe()
    assert not story.csp_reports, "Content-Security-Policy violations:\n" + "\n".join(story.csp_reports)
    assert len(report.pages) >= 20 or not report.enabled


pytestmark = pytest.mark.browser
