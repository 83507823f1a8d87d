"""로그인 기기 in a real browser: one person signed in on two devices sees both, this one
marked, and signs the other out (with the confirmation); that device is then signed out
and this one is not. axe at 1440 and 390 px."""

from __future__ import annotations

import pytest

from tests.browser.test_follow_up_story import FollowUp
from tests.browser.test_story import TEAM_LOGIN


def test_a_user_signs_another_device_out(app, seeded, live_server, browser, axe_report):
    office = FollowUp(browser, live_server, axe_report)
    phone = FollowUp(browser, live_server, axe_report)
    try:
        phone.sign_in(TEAM_LOGIN, "부서 담당자(휴대폰)")
        page = office.sign_in(TEAM_LOGIN, "부서 담당자")
        with page.expect_navigation():
            page.get_by_role("link", name="로그인 기기").click()
        office.check("로그인 기기")
        main = page.inner_text("main")
        assert main.count("지금 사용 중인 기기") == 1
        assert page.locator("tbody tr").count() == 2

        # Without the box ticked the page says so before anything is sent.
        page.get_by_role("button", name="다른 기기 모두 로그아웃").click()
        page.get_by_text("종료하려면 확인란을 선택하세요.").wait_for()
        office.check("확인 없이")
        page.get_by_text("다른 기기의 로그인을 모두 종료하는 것을 확인했습니다.").click()
        assert page.get_by_label("다른 기기의 로그인을 모두 종료하는 것을 확인했습니다.").is_checked()
        office.submit(page.get_by_role("button", name="다른 기기 모두 로그아웃"), "종료한 뒤")
        assert "다른 기기 1곳의 로그인을 종료했습니다" in office.flash()
        assert page.locator("tbody tr").count() == 1

        phone.page.goto("/")
        assert "/login" in phone.page.url
        office.goto("/", "홈 (아직 로그인)")
    finally:
        office.close()
        phone.close()
    assert not office.csp_reports, "\n".join(office.csp_reports)
    assert not axe_report.failures, axe_report.describe()


pytestmark = pytest.mark.browser
