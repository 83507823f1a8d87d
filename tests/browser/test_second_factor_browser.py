"""The second factor in a real browser, with the setting on as in production: the
administrator enrols an authenticator app at sign-in (QR code and key drawn here), keeps
the recovery codes, and next time signs in with the app's code. axe-core finds nothing
serious or critical on these pages, and none needs inline script or style."""

from __future__ import annotations

import time

import pyotp
import pytest

from tests.browser.test_admin_users_browser import Visit
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def test_an_administrator_enrols_and_signs_in_with_the_code(app, browser, live_server,
                                                             axe_report):
    app.config["REQUIRE_SECOND_FACTOR"] = True
    visit = Visit(browser, live_server, axe_report)
    page = visit.page

    visit.sign_in("admin", DEMO_PASSWORD, "2단계 인증 등록")
    assert page.url == live_server + "/login/enrol"
    assert page.locator("#enrol-qr").evaluate("img => img.naturalWidth") > 0  # the QR drawn
    secret = page.locator("#enrol-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    code = page.get_by_label("인증 앱에 표시된 6자리 숫자")
    assert code.get_attribute("autocomplete") == "one-time-code"
    assert code.get_attribute("inputmode") == "numeric"
    code.fill(totp.now())
    visit.click(page.get_by_role("button", name="등록 완료"), "복구 코드")
    assert "2단계 인증을 등록했습니다." in visit.text()
    assert page.locator("#recovery-codes li").count() == 10
    download = page.locator("#recovery-download")
    assert download.get_attribute("href").startswith("data:text/plain;charset=utf-8,")
    visit.click(page.get_by_role("link", name="보관했습니다. 계속하기"), "관리자 홈")
    assert page.url == live_server + "/"

    visit.click(page.get_by_role("button", name="로그아웃"), "로그아웃 후")
    visit.sign_in("admin", DEMO_PASSWORD, "2단계 인증")
    assert page.url == live_server + "/login/code"
    page.get_by_label("인증 코드 (6자리 숫자)").fill("000000" if totp.now() != "000000" else "111111")
    visit.click(page.get_by_role("button", name="확인"), "2단계 인증 (거부)")
    assert "인증 코드가 올바르지 않습니다." in visit.text()
    # The next step's code: never the one enrolment used, and inside the window.
    page.get_by_label("인증 코드 (6자리 숫자)").fill(totp.at(time.time(), counter_offset=1))
    visit.click(page.get_by_role("button", name="확인"), "관리자 홈")
    assert page.url == live_server + "/"
    visit.goto("/account/second-factor", "2단계 인증 설정")
    assert "사용 중" in visit.text()
    visit.context.close()

    assert not visit.csp_reports, visit.csp_reports
    assert not visit.report.failures, visit.report.describe()
