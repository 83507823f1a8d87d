"""The sign-in and user-administration pages in a real browser: axe-core finds nothing serious
or critical on any of them, no page needs inline script or style, and the story works: an
administrator creates a user, who signs in and changes the password."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import AxeReport
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Brand-new-pass-42"
CHANGED_PASSWORD = "Changed-pass-2026!"


class Visit:
    """One browser context; every page it lands on is checked with axe-core."""

    def __init__(self, chromium: Any, base_url: str, report: AxeReport) -> None:
        self.base_url = base_url
        self.report = report
        self.csp_reports: list[str] = []
        self.context = chromium.new_context(base_url=base_url, locale="ko-KR",
                                           timezone_id="Asia/Seoul")
        report.prepare(self.context)
        self.page = self.context.new_page()
        self.page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.csp_reports.append(f"{self.page.url}: {message.text}")

    def goto(self, path: str, label: str) -> None:
        response = self.page.goto(path)
        assert response is not None and response.ok, f"GET {path}: {response and response.status}"
        self.report.check(self.page, label)

    def click(self, target: Any, label: str) -> None:
        """Click a link or a form's button; check the page the browser lands on."""
        with self.page.expect_navigation():
            target.click()
        self.page.wait_for_load_state()
        self.report.check(self.page, label)

    def sign_in(self, login: str, password: str, label: str) -> None:
        self.goto("/login", "로그인")
        self.page.get_by_label("아이디").fill(login)
        self.page.get_by_label("비밀번호").fill(password)
        self.click(self.page.get_by_role("button", name="로그인"), label)

    def text(self) -> str:
        return self.page.inner_text("main")


def settle(page: Any) -> None:
    """After a click that stays on the page: the pointer off the button, KRDS's 0.4 s hover
    transition over, so axe checks the page's colours and not a button half-way."""
    page.mouse.move(0, 0)
    page.wait_for_timeout(500)


def test_admin_creates_a_user_who_signs_in_and_changes_the_password(browser, live_server,
                                                                   axe_report):
    visit = Visit(browser, live_server, axe_report)
    page = visit.page

    visit.goto("/login", "로그인")
    # Empty: said in Korean next to each field before anything is posted (no browser bubble).
    page.get_by_role("button", name="로그인").click()
    page.locator("#login-required").wait_for()
    assert page.url == live_server + "/login"
    assert "아이디를 입력하세요." in visit.text() and "비밀번호를 입력하세요." in visit.text()
    assert page.evaluate("document.activeElement.id") == "login"
    settle(page)
    visit.report.check(page, "로그인 (빈 입력)")
    visit.sign_in("admin", "Wrong-guess-77!", "로그인 (거부)")
    assert "아이디 또는 비밀번호가 올바르지 않습니다." in visit.text()

    visit.sign_in("admin", DEMO_PASSWORD, "관리자 홈")
    assert page.url == live_server + "/"
    visit.click(page.get_by_role("link", name="사용자 관리", exact=True), "사용자 목록")
    visit.click(page.get_by_role("link", name="사용자 등록"), "사용자 등록")
    page.get_by_label("아이디").fill("new-worker")
    page.get_by_label("이름").fill("새 주무관")
    page.get_by_label("역할").select_option("department")
    page.get_by_label("비밀번호", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("비밀번호 확인").fill(NEW_PASSWORD)
    visit.click(page.get_by_role("button", name="사용자 등록"), "사용자 등록 (거부)")
    assert "부서 담당자는 소속 팀 또는 TF를 지정해야 합니다." in visit.text()
    page.get_by_label("소속 팀").select_option("ai-companion")
    page.get_by_label("비밀번호", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("비밀번호 확인").fill(NEW_PASSWORD)
    visit.click(page.get_by_role("button", name="사용자 등록"), "사용자 목록 (등록 후)")
    assert page.url == live_server + "/admin/users"
    assert "new-worker" in visit.text()

    def row() -> Any:
        return page.get_by_role("row").filter(has_text="new-worker")

    visit.click(row().get_by_role("link", name="수정"), "사용자 수정")
    visit.goto("/admin/users", "사용자 목록")
    visit.click(row().get_by_role("link", name="비밀번호 재설정"), "비밀번호 재설정")
    visit.goto("/admin/users", "사용자 목록")
    visit.click(row().get_by_role("link", name="사용 중지"), "사용 중지 확인")
    page.get_by_role("button", name="사용 중지").click()  # unticked: stopped before the post
    page.locator("#confirm-required").wait_for()
    assert "확인란을 선택해야 진행합니다." in visit.text()
    assert "/active" in page.url
    settle(page)
    visit.report.check(page, "사용 중지 (확인 없이)")

    visit.click(page.get_by_role("button", name="로그아웃"), "로그아웃 후")
    assert "로그아웃되었습니다." in visit.text()
    visit.sign_in("new-worker", NEW_PASSWORD, "부서 홈")
    assert page.url == live_server + "/"
    visit.goto("/account/password", "비밀번호 변경")
    page.get_by_label("현재 비밀번호").fill(NEW_PASSWORD)
    page.get_by_label("새 비밀번호", exact=True).fill("short")
    page.get_by_label("새 비밀번호 확인").fill("short")
    visit.click(page.get_by_role("button", name="비밀번호 변경"), "비밀번호 변경 (거부)")
    assert "3종류 이상으로 9자 이상" in visit.text()
    page.get_by_label("현재 비밀번호").fill(NEW_PASSWORD)
    page.get_by_label("새 비밀번호", exact=True).fill(CHANGED_PASSWORD)
    page.get_by_label("새 비밀번호 확인").fill(CHANGED_PASSWORD)
    visit.click(page.get_by_role("button", name="비밀번호 변경"), "비밀번호 변경 후")
    assert "비밀번호를 변경했습니다." in visit.text()

    visit.click(page.get_by_role("button", name="로그아웃"), "로그아웃 후")
    visit.sign_in("new-worker", CHANGED_PASSWORD, "부서 홈")
    assert page.url == live_server + "/"
    visit.context.close()

    report = visit.report
    for key, where in sorted(report.minor.items()):
        print(f"axe (not blocking) {key} — on {sorted(where)}")
    print(f"axe-core checked {len(report.pages)} pages")
    assert not report.failures, report.describe()
    assert not visit.csp_reports, "Content-Security-Policy violations:\n" + "\n".join(
        visit.csp_reports)
