"""내 API 토큰 and the API's documentation page in a real browser: a department user makes a
token, sees it once, uses it, revokes it; the documentation page draws every operation from
the document under the CSP. axe at 1440 and 390 px."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.browser.test_follow_up_story import FollowUp
from tests.browser.test_story import TEAM_LOGIN


def _audits(base: str, secret: str) -> int:
    request = urllib.request.Request(f"{base}/api/v1/audits",
                                     headers={"Authorization": f"Bearer {secret}"})
    try:
        with urllib.request.urlopen(request) as answer:
            json.load(answer)
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


def _operations(base: str) -> int:
    with urllib.request.urlopen(f"{base}/api/v1/openapi.json") as response:
        spec = json.load(response)
    methods = {"get", "post", "put", "patch", "delete"}
    return sum(1 for path in spec["paths"].values() for method in path if method in methods)


def test_a_user_makes_uses_and_revokes_a_token(app, seeded, live_server, browser, axe_report):
    story = FollowUp(browser, live_server, axe_report)
    try:
        page = story.sign_in(TEAM_LOGIN, "부서 담당자")
        with page.expect_navigation():
            page.get_by_role("link", name="API 토큰").click()
        story.check("내 API 토큰")
        page.get_by_label("토큰 이름(용도)").fill("주간 실적 집계")
        page.get_by_label("읽기 전용").check()
        story.submit(page.get_by_role("button", name="토큰 만들기"), "토큰을 만든 뒤")
        secret = page.get_by_label("새 토큰").input_value()
        assert secret.startswith("af_") and "지금 복사해 두세요" in page.inner_text("main")
        assert _audits(live_server, secret) == 200

        story.goto("/account/tokens", "내 API 토큰 (다시)")
        assert secret not in page.content() and secret[:9] in page.inner_text("main")
        story.submit(page.get_by_role("button", name="폐기 주간 실적 집계"), "토큰을 폐기한 뒤")
        assert "폐기했습니다" in story.flash() and "폐기됨" in page.inner_text("main")
        assert _audits(live_server, secret) == 401

        # The page draws every operation of the live OpenAPI document, and says how many.
        operations = _operations(live_server)
        story.goto("/api/v1/docs", "API 문서")
        page.locator("td.method").first.wait_for()
        assert page.locator("td.method").count() == operations
        assert f"동작 {operations}개" in page.inner_text("#api-docs-status")
        story.check("API 문서 (그린 뒤)")
    finally:
        story.close()
    assert not story.csp_reports, "Content-Security-Policy violations:\n" + "\n".join(story.csp_reports)
    assert not axe_report.failures, axe_report.describe()


pytestmark = pytest.mark.browser
