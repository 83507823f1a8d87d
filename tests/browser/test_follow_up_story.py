"""The follow-up that drives itself, in a real browser with a real mail server and worker.

The audit team assigns an item → the team's e-mail arrives (aiosmtpd on loopback, sent
by the application's own Huey worker) → the department follows its link, signs in and
lands on the item, starts it → types its result, and the session is forced to expire
before the save → after signing in again the typed text is back, and is saved → it
submits → the audit team returns it → the department's home shows it first, with the
reason → the department asks for a later due date → the audit team approves → the item
page and the XLSX report show the first and the new date.

Every page met on the way is checked with axe-core at 1440 and 390 px wide. A second
test drives the idle time-out warning with the browser's clock.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from auditflow import dates
from auditflow.extensions import db
from auditflow.http import sessions
from auditflow.models import OrgUnit, Recommendation, utcnow
from auditflow.reports.summary import latest_audit
from auditflow.reports.xlsx import DUE_SHEET
from auditflow.vocabulary import Category
from tests.browser.test_story import TEAM_LOGIN, Story
from tests.conftest import DEMO_PASSWORD
from tests.mail_helpers import SmtpServer, Worker, wait_for

pytestmark = pytest.mark.browser

BASE_URL = "https://audit.example"
TEAM_MAIL = f"{TEAM_LOGIN}@auditflow.example"  # the demo users' addresses (seeding)
COUNCIL_TEXT = "청년 AI 인재 양성 과정의 수료 후 취업 연계 실적을 관리하기 바람."
TYPED = "ㅇ 수료생 취업 연계 실적 관리 체계 마련\n  - 분기별 추적 조사 실시"
RETURN_REASON = "추적 조사 대상과 시기를 구체적으로 적어 주세요."
EXTENSION_REASON = "추적 조사 결과가 6월에 나옵니다."
WIDTHS = (1440, 390)


@pytest.fixture
def app_config(smtp: SmtpServer) -> dict[str, object]:
    return smtp.settings(BASE_URL=BASE_URL)


@pytest.fixture
def worker(app, smtp) -> Iterator[Worker]:
    smtp.clear()
    running = Worker(app)
    running.huey.flush()
    running.start()
    yield running
    running.stop()


class FollowUp(Story):
    """The story's people, with every page checked at both widths."""

    def check(self, label: str) -> None:
        if not self.report.enabled:
            return
        size = self.page.viewport_size
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 900})
            self.report.check(self.page, f"{self.who} · {label} · {width}px")
        self.page.set_viewport_size(size)

    def open_context(self, who: str) -> Any:
        if self.context is not None:
            self.context.close()
        self.context = self.browser.new_context(
            base_url=self.base_url, locale="ko-KR", timezone_id="Asia/Seoul",
            accept_downloads=True, viewport={"width": 1440, "height": 900})
        self.report.prepare(self.context)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.who = who
        return self.page

    def fill_login(self, login: str, label: str) -> None:
        self.check(label)
        self.page.get_by_label("아이디").fill(login)
        self.page.get_by_label("비밀번호").fill(DEMO_PASSWORD)
        self.submit(self.page.get_by_role("button", name="로그인"), f"{label} 후")

    def expire_session(self, app: Any) -> None:
        """As if the user had left the page for longer than the idle limit."""
        name = app.config["SESSION_COOKIE_NAME"]
        serializer = app.session_interface.get_signing_serializer(app)
        cookie = next(c for c in self.context.cookies() if c["name"] == name)
        data = serializer.loads(cookie["value"])
        idle = app.config["SESSION_IDLE_MINUTES"] + 1
        data[sessions.SEEN_AT] = (utcnow() - timedelta(minutes=idle)).timestamp()
        self.context.add_cookies([{**cookie, "value": serializer.dumps(data)}])

    def drafts(self) -> dict[str, Any]:
        stored = self.page.evaluate(
            "() => Object.fromEntries(Object.keys(localStorage)"
            ".filter(k => k.startsWith('auditflow:draft:')).map(k => [k, localStorage[k]]))")
        return {key: json.loads(value) for key, value in stored.items()}


def test_assignment_mail_return_extension_and_a_draft_that_survives(
        app, seeded, live_server, browser, axe_report, worker, smtp, tmp_path: Path):
    audit = latest_audit()
    team = db.session.scalar(db.select(OrgUnit).where(OrgUnit.code == TEAM_LOGIN))
    first_due = dates.today() + timedelta(days=30)
    new_due = dates.today() + timedelta(days=120)
    number = db.session.scalar(db.select(db.func.max(Recommendation.number))
                               .where(Recommendation.audit_id == audit.id)) + 1
    from auditflow.services import recommendations as ops

    auditor = seeded_user("audit")
    item = ops.register(audit, number=number, category=Category.SUGGESTION,
                        council_text=COUNCIL_TEXT, actor=auditor, lead_team=None,
                        supporting_teams=[], due_date=first_due)
    db.session.commit()
    page_path = f"/recommendations/{item.id}"
    story = FollowUp(browser, live_server, axe_report)
    try:
        # ---- the audit team assigns the item to the team
        page = story.sign_in("audit", "감사팀")
        story.goto(page_path, "요구사항(미지정)")
        with page.expect_navigation():
            page.get_by_role("link", name="담당 부서 지정").click()
        story.check("담당 부서 지정")
        page.get_by_label("주관 부서").select_option(label=team.name)
        story.submit(page.get_by_role("button", name="저장"), "요구사항(지정 후)")
        assert "담당 부서를 지정했습니다" in story.flash()

        # ---- the team's e-mail arrives; its link leads to the item, through sign-in
        mail = wait_for(lambda: smtp.to(TEAM_MAIL), what=f"the assignment mail to {TEAM_MAIL}")[0]
        assert mail.subject.endswith("주관 부서로 지정되었습니다"), mail.subject
        link = re.search(rf"{re.escape(BASE_URL)}(/recommendations/\d+)", mail.text)
        assert link and link.group(1) == page_path, mail.text
        page = story.open_context("AI동행팀")
        page.goto(link.group(1))
        assert page.url.startswith(f"{live_server}/login?next=")
        assert "로그인이 필요합니다" in page.inner_text("main")
        story.fill_login(TEAM_LOGIN, "로그인(메일 링크)")
        assert page.url == live_server + page_path, page.url
        story.submit(page.get_by_role("button", name="추진 시작"), "요구사항(추진 중)")
        assert story.state() == "추진 중"

        # ---- typed, then the session expires before the save: nothing is lost
        editor = page.get_by_role("textbox", name="추진내용")
        assert editor.bounding_box()["height"] >= 300  # the large editor
        editor.fill(TYPED)
        wait_for(lambda: story.drafts(), timeout=5, what="the draft kept in the browser")
        story.expire_session(app)
        story.submit(page.get_by_role("button", name="조치결과 저장"), "로그인(시간 초과)")
        assert page.url.startswith(f"{live_server}/login?next=")
        assert "장시간 사용하지 않아 로그아웃되었습니다." in page.inner_text("main")
        db.session.expire_all()
        assert not db.session.get(Recommendation, item.id).action_details  # not saved
        story.fill_login(TEAM_LOGIN, "로그인(다시)")
        assert page.url == live_server + page_path, page.url
        assert page.get_by_role("textbox", name="추진내용").input_value() == TYPED
        notice = page.locator(".result-form .draft-notice")
        assert notice.is_visible() and "다시 채웠습니다" in notice.inner_text()
        story.check("요구사항(초안 복원)")
        story.submit(page.get_by_role("button", name="조치결과 저장"), "요구사항(저장)")
        assert "조치결과를 저장했습니다" in story.flash()
        assert story.drafts() == {}  # the server has it: the browser's copy is gone
        assert not page.locator(".result-form .draft-notice").is_visible()
        db.session.expire_all()
        assert db.session.get(Recommendation, item.id).action_details == TYPED
        story.submit(page.get_by_role("button", name="검토 요청(제출)"), "요구사항(제출)")
        assert story.state() == "검토 중"

        # ---- the audit team returns it with a reason
        page = story.sign_in("audit", "감사팀")
        story.goto(page_path, "요구사항(검토 중)")
        page.get_by_label("보완 요청 사유").fill(RETURN_REASON)
        story.submit(page.get_by_role("button", name="보완 요청"), "요구사항(보완 요청)")

        # ---- the department's home shows it first, with the reason
        page = story.sign_in(TEAM_LOGIN, "AI동행팀")
        story.check("홈(보완 요청)")
        first = page.locator("table.work-queue tbody tr").first
        assert "보완 요청" in first.inner_text() and RETURN_REASON in first.inner_text()
        assert COUNCIL_TEXT[:20] in first.inner_text()
        story.goto("/notifications", "알림")
        assert RETURN_REASON in page.inner_text("main")
        story.goto("/account/notifications", "알림 메일 설정")
        assert "이관 요청 결정" in page.inner_text("main")  # every kind may be switched off

        # ---- the department asks for a later due date; the audit team approves
        story.goto(page_path, "요구사항(보완 중)")
        page.get_by_label("새 처리 기한").fill(new_due.isoformat())
        page.get_by_label("연장이 필요한 사유").fill(EXTENSION_REASON)
        story.submit(page.get_by_role("button", name="연장 요청"), "요구사항(연장 요청)")
        assert "기한 연장" in story.flash()
        page = story.sign_in("audit", "감사팀")
        story.goto(page_path, "요구사항(연장 결정 대기)")
        story.submit(page.get_by_role("button", name="연장 승인"), "요구사항(연장 승인)")
        facts = page.locator("#extension").inner_text()
        short_first, short_new = dates.short(first_due), dates.short(new_due)
        assert f"기한 연장 1회: {short_first} → {short_new}" in facts, facts
        assert short_new in page.locator(".item-facts").inner_text()

        # ---- the XLSX report says the same
        story.goto(f"/summary?audit={audit.id}", "처리결과 총괄표")
        with page.expect_download() as download_info:
            page.locator(".download-list a", has_text="XLSX").first.click()
        workbook = load_workbook(download_info.value.path())
        rows = [row for row in workbook[DUE_SHEET].iter_rows(min_row=2, values_only=True)
                if row[0] == number]
        assert rows, [r for r in workbook[DUE_SHEET].iter_rows(values_only=True)]
        original, current, changes = rows[0][3], rows[0][4], rows[0][5]
        assert (as_date(original), as_date(current), changes) == (first_due, new_due, 1)
        assert story.csp_reports == []
    except BaseException:
        if story.page is not None:
            shot = tmp_path / "follow-up-failure.png"
            story.page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of {story.page.url}: {shot}")
        raise
    finally:
        story.close()
        print(f"axe-core checked {len(axe_report.pages)} pages")
        if axe_report.failures:
            print(axe_report.describe())
    assert not axe_report.failures, axe_report.describe()


def test_the_idle_warning_keeps_the_session_or_says_it_ended(
        app, seeded, live_server, browser, axe_report):
    story = FollowUp(browser, live_server, axe_report)
    try:
        page = story.open_context("AI동행팀")
        page.clock.install()
        page.goto("/login")
        story.fill_login(TEAM_LOGIN, "로그인")
        idle = app.config["SESSION_IDLE_MINUTES"] * 60
        warning = page.locator("#session-warning")
        assert not warning.is_visible()

        page.clock.fast_forward((idle - 90) * 1000)  # 90 s before the end
        warning.wait_for(state="visible")
        assert "로그인 유지" in warning.inner_text() and "뒤 로그아웃됩니다" in warning.inner_text()
        story.check("자동 로그아웃 경고")
        with page.expect_response(lambda r: r.url.endswith("/account/session")) as kept:
            warning.get_by_role("button", name="로그인 유지").click()
        assert kept.value.status == 200 and kept.value.json()["seconds_left"] > idle - 10
        warning.wait_for(state="hidden")

        page.clock.fast_forward((idle + 5) * 1000)  # nobody answered this time
        ended = warning.locator(".session-ended")
        ended.wait_for(state="visible")
        assert "로그아웃되었습니다" in ended.inner_text()
        again = ended.get_by_role("link", name="다시 로그인")
        assert again.get_attribute("href").startswith("/login?next=")
    finally:
        story.close()
    assert not axe_report.failures, axe_report.describe()


def seeded_user(login: str) -> Any:
    from auditflow.models import User

    return db.session.scalar(db.select(User).where(User.login == login))


def load_workbook(path: str) -> Any:
    import openpyxl

    return openpyxl.load_workbook(io.BytesIO(Path(path).read_bytes()), read_only=True)


def as_date(value: Any) -> Any:
    return value.date() if hasattr(value, "date") else value


def test_the_summary_prints_on_no_more_a4_pages_than_the_report(
        app, seeded, live_server, browser, axe_report):
    import pypdf

    story = FollowUp(browser, live_server, axe_report)
    try:
        page = story.sign_in("liaison", "의회 담당관")
        story.goto("/summary", "처리결과 총괄표")
        # The page shows a page of items; 인쇄 opens the whole report, which prints itself.
        page.add_init_script("window.printed = 0; window.print = () => { window.printed += 1; };")
        href = page.locator(".download-list a", has_text="PDF").first.get_attribute("href")
        button = page.get_by_role("link", name=re.compile(r"^인쇄 \(보고서 전체"))
        assert button.is_visible()
        button.click()
        page.wait_for_load_state("load")
        assert "/print?" in page.url
        page.wait_for_function("window.printed === 1")

        page.emulate_media(media="print")
        printed = pypdf.PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True)))
        report = pypdf.PdfReader(io.BytesIO(page.request.get(live_server + href).body()))
        sizes = {(round(float(p.mediabox.width)), round(float(p.mediabox.height)))
                 for p in printed.pages}
        assert sizes == {(595, 842)}  # A4 in points
        assert 1 < len(printed.pages) <= len(report.pages), (len(printed.pages), len(report.pages))
        words = [p.extract_text() for p in printed.pages]
        assert "총" in words[0] and "조치내역" in words[0] and "- 1 -" in words[0]
        assert "- 2 -" in words[1] and "조치결과 및 향후추진계획" in words[1]  # header repeated
    finally:
        story.close()
