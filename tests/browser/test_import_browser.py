"""가져오기 in a real browser: the audit team downloads nothing by hand, uploads the list,
reads the preview, confirms, and finds the items in the list. axe at 1440 and 390 px."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditflow.extensions import db
from auditflow.models import Recommendation
from auditflow.reports.summary import latest_audit
from tests.browser.test_follow_up_story import FollowUp
from tests.test_importing import workbook_bytes

pytestmark = pytest.mark.browser


def test_the_audit_team_imports_a_list_after_its_preview(app, seeded, live_server, browser,
                                                         axe_report, tmp_path: Path):
    audit = latest_audit()
    numbers = db.session.scalars(db.select(Recommendation.number)
                                 .where(Recommendation.audit_id == audit.id)).all()
    first = max(numbers) + 1
    upload = tmp_path / "의회 요구사항 목록.xlsx"
    upload.write_bytes(workbook_bytes([
        [first, "건의사항", "브라우저로 가져온 첫 요구사항", "AI동행팀", "", "2026-12-31"],
        [first + 1, "시정·처리요구사항", "브라우저로 가져온 둘째 요구사항", "창의경영팀", "AI동행팀", None],
    ]))
    story = FollowUp(browser, live_server, axe_report)
    try:
        page = story.sign_in("audit", "감사팀")
        story.goto("/audits", "감사 관리")
        with page.expect_navigation():
            page.get_by_role("link", name=f"가져오기 ({audit.title})").click()
        story.check("요구사항 가져오기")
        page.get_by_role("button", name="올려서 미리 보기").click()  # no file: said in Korean
        page.locator("#file-required").wait_for()
        assert "가져올 엑셀(XLSX) 파일이나 한글(HWPX) 문서를 고르세요." in page.inner_text("main")

        page.get_by_label("가져올 파일(XLSX·HWPX)").set_input_files(str(upload))
        story.submit(page.get_by_role("button", name="올려서 미리 보기"), "가져오기 미리 보기")
        preview = page.locator(".import-preview").inner_text()
        assert "새로 더할 것 2건" in preview and "브라우저로 가져온 둘째 요구사항" in preview
        assert db.session.scalar(db.select(db.func.count(Recommendation.id))
                                 .where(Recommendation.audit_id == audit.id)) == len(numbers)
        page.locator("label[for=confirm]").click()  # KRDS draws the box on the label
        assert page.get_by_label("미리 보기의 내용대로 가져오는 것을 확인했습니다.").is_checked()
        story.submit(page.get_by_role("button", name="2건 가져오기"), "요구사항 목록(가져온 뒤)")
        assert "요구사항 2건을 가져왔습니다" in story.flash()
        assert "브라우저로 가져온 첫 요구사항" in page.inner_text("main")
    finally:
        story.close()
    assert not axe_report.failures, axe_report.describe()
    db.session.expire_all()
    imported = db.session.scalars(db.select(Recommendation).where(
        Recommendation.audit_id == audit.id, Recommendation.number >= first)
        .order_by(Recommendation.number)).all()
    assert [(r.number, r.lead_team.name) for r in imported] == [(first, "AI동행팀"),
                                                                (first + 1, "창의경영팀")]
