"""가져오기: the council's list from the XLSX template into an audit — every row checked
first, problems named by row and cell, nothing written unless all is well, and the same
file twice adds nothing. Through the service, the command and the pages (CSRF on)."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from auditflow.extensions import db
from auditflow.models import Audit, History, Notification, OrgUnit, Recommendation
from auditflow.services import importing
from auditflow.services.import_readers import UnreadableFile
from auditflow.vocabulary import Category, HistoryKind, NotificationKind, UnitKind
from tests.pages_helpers import client_for, text
from tests.test_storage import make_pdf

HEADER = ["번호", "구분", "요구사항", "주관 부서", "협조 부서", "처리 기한"]


def workbook_bytes(rows, *, header=HEADER, title_row=None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "요구사항"
    if title_row:
        sheet.append([title_row])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def org(make):
    lead, helper = make.team("AI동행팀"), make.team("창의경영팀")
    division = OrgUnit(code="div-x", name="경영기획본부", kind=UnitKind.DIVISION.value)
    db.session.add(division)
    worker = make.user("department", team=lead)
    auditor = make.user("audit")
    audit = make.audit()
    db.session.commit()
    return {"lead": lead, "helper": helper, "audit": audit, "auditor": auditor, "worker": worker}


def counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count(Recommendation.id))),
            db.session.scalar(select(func.count(History.id))))


def test_a_list_imports_with_teams_dates_history_and_notices_and_twice_adds_nothing(org):
    data = workbook_bytes([
        [1, "시정·처리요구사항", "첫 요구사항", "AI동행팀", "창의경영팀", "2026-06-30"],
        [2, "건의 사항", "둘째 요구사항", org["helper"].code, "", None],
        [3, "기타", "셋째 요구사항", "", "", "'26.9.30."],
    ], title_row="2026 행정사무감사 요구사항 목록")
    plan = importing.plan(org["audit"], data, "목록.xlsx")
    assert plan.ok and [i.number for i in plan.new_items] == [1, 2, 3]
    written = importing.apply(plan, org["audit"], org["auditor"])
    db.session.commit()
    first, second, third = sorted(written, key=lambda r: r.number)
    assert (first.category, first.lead_team_id, [t.id for t in first.supporting_teams],
            first.due_date.isoformat(), first.state) == (
        Category.CORRECTIVE.value, org["lead"].id, [org["helper"].id], "2026-06-30", "received")
    assert (second.category, second.lead_team_id, second.due_date) == (
        Category.SUGGESTION.value, org["helper"].id, None)
    assert (third.category, third.lead_team_id, third.due_date.isoformat()) == (
        Category.OTHER.value, None, "2026-09-30")
    created = db.session.scalars(select(History).where(
        History.recommendation_id == first.id, History.kind == HistoryKind.CREATED.value)).one()
    assert created.comment.startswith(f"'목록.xlsx'에서 가져옴 (SHA-256 {plan.sha256[:16]}")
    told = db.session.scalars(select(Notification).where(
        Notification.kind == NotificationKind.ASSIGNED.value,
        Notification.user_id == org["worker"].id)).all()
    assert [n.recommendation_id for n in told] == [first.id]

    before = counts()
    again = importing.plan(org["audit"], data, "목록.xlsx")
    assert again.ok and again.new_items == [] and again.unchanged == 3
    assert importing.apply(again, org["audit"], org["auditor"]) == []
    assert counts() == before


@pytest.mark.parametrize(("row", "where", "reason"), [
    ([5, "건의사항", "내용", "AI동행", "", None], "D3(주관 부서)",
     "'AI동행' 부서를 찾을 수 없습니다. 'AI동행팀'을 뜻하나요?"),
    ([5, "건의사항", "내용", "경영기획본부", "", None], "D3(주관 부서)",
     "'경영기획본부'는 본부입니다. 팀 또는 TF를 적으세요."),
    ([5, "의견", "내용", "", "", None], "B3(구분)", "구분 '의견'을 알 수 없습니다."),
    ([5, "건의사항", "  ", "", "", None], "C3(요구사항)", "요구사항 내용이 비어 있습니다."),
    (["다섯", "건의사항", "내용", "", "", None], "A3(번호)", "번호는 1 이상의 정수여야 합니다."),
    ([5, "건의사항", "내용", "", "없는팀, 창의경영팀", None], "E3(협조 부서)",
     "'없는팀' 부서를 찾을 수 없습니다."),
    ([5, "건의사항", "내용", "", "", "내일까지"], "F3(처리 기한)",
     "'내일까지'는 날짜로 읽을 수 없습니다."),
    ([1, "건의사항", "같은 번호", "", "", None], "A3(번호)", "번호 1이 요구사항 2행에도 있습니다."),
])
def test_each_problem_names_its_cell_and_nothing_is_written(org, row, where, reason):
    data = workbook_bytes([[1, "건의사항", "첫 줄은 바르다", "", "", None], row])
    plan = importing.plan(org["audit"], data, "목록.xlsx")
    assert not plan.ok
    assert any(p.where == f"요구사항 3행 {where}" and p.reason.startswith(reason)
               for p in plan.problems), plan.problems
    before = counts()
    with pytest.raises(importing.ImportRefused) as refused:
        importing.apply(plan, org["audit"], org["auditor"])
    assert refused.value.code == "import_invalid"
    db.session.rollback()
    assert counts() == before


def test_a_number_the_audit_has_with_other_text_is_a_problem(org, make):
    make.recommendation(audit=org["audit"], number=7, text="이미 있는 요구사항")
    db.session.commit()
    plan = importing.plan(org["audit"], workbook_bytes([[7, "건의사항", "다른 내용", "", "", None]]),
                          "목록.xlsx")
    assert [p.reason for p in plan.problems] == [
        "이 감사에는 7번 요구사항이 이미 다른 내용으로 있습니다. 번호를 바꾸거나 이미 있는 요구사항을 확인하세요."]


@pytest.mark.parametrize(("data", "code"), [
    (make_pdf(), "import_wrong_type"),
    (b"PK\x03\x04 not really a zip", "file_corrupt"),
    (workbook_bytes([], header=["이름", "나이"]), "import_no_header"),
    (workbook_bytes([]), "import_empty"),
])
def test_a_file_that_is_not_a_list_is_refused_in_korean(org, data, code):
    with pytest.raises(UnreadableFile) as refused:
        importing.plan(org["audit"], data, "x.xlsx")
    assert refused.value.code == code and re.search(r"[가-힣]", refused.value.message)


def test_the_template_reads_back_as_an_empty_list_with_the_choices(app, org):
    client = client_for(app, org["auditor"])
    response = client.get("/audits/import-template.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert [c.value for c in book["요구사항"][1]] == HEADER
    choices = [row[0] for row in book["목록"].iter_rows(min_row=2, values_only=True) if row[0]]
    assert choices == [c.label for c in Category]
    teams = {row[1] for row in book["목록"].iter_rows(min_row=2, values_only=True) if row[1]}
    assert {"AI동행팀", "창의경영팀"} <= teams and "경영기획본부" not in teams
    # Filled in as a user would, it imports.
    sheet = book["요구사항"]
    sheet.append([1, Category.SUGGESTION.label, "서식으로 쓴 요구사항", "AI동행팀", "", "2026-12-31"])
    out = io.BytesIO()
    book.save(out)
    plan = importing.plan(org["audit"], out.getvalue(), "서식.xlsx")
    assert plan.ok and [(i.number, i.lead_team.name) for i in plan.items] == [(1, "AI동행팀")]


def test_the_pages_preview_then_write_only_when_confirmed(app, org):
    client = client_for(app, org["auditor"])
    page = f"/audits/{org['audit'].id}/import"
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get(page).get_data(as_text=True)).group(1)
    good = workbook_bytes([[1, "건의사항", "웹으로 가져온 요구사항", "AI동행팀", "", "2026-06-30"]])
    before = counts()
    preview = client.post(page, data={"csrf_token": token, "file": (io.BytesIO(good), "목록.xlsx")})
    assert preview.status_code == 200 and counts() == before  # nothing written yet
    html = preview.get_data(as_text=True)
    assert "웹으로 가져온 요구사항" in text(preview) and "1건 가져오기" in text(preview)
    sealed = re.search(r'name="sealed" value="([^"]+)"', html).group(1)

    unticked = client.post(f"{page}/confirm", data={"csrf_token": token, "sealed": sealed},
                           follow_redirects=True)
    assert "가져오려면 '확인했습니다'에 표시하세요." in text(unticked) and counts() == before
    forged = client.post(f"{page}/confirm", data={"csrf_token": token, "sealed": sealed[:-3] + "xyz",
                                                  "confirm": "y"}, follow_redirects=True)
    assert "미리 보기가 만료되었거나 올바르지 않습니다." in text(forged) and counts() == before

    done = client.post(f"{page}/confirm", data={"csrf_token": token, "sealed": sealed,
                                                "confirm": "y"}, follow_redirects=True)
    assert "'목록.xlsx'에서 요구사항 1건을 가져왔습니다." in text(done)
    db.session.expire_all()
    assert db.session.scalars(select(Recommendation.council_text)).all() == ["웹으로 가져온 요구사항"]

    bad = workbook_bytes([[2, "건의사항", "", "없는팀", "", None]])
    refused = client.post(page, data={"csrf_token": token, "file": (io.BytesIO(bad), "틀린.xlsx")})
    assert refused.status_code == 400
    page_text = text(refused)
    assert "요구사항 2행 C2(요구사항) 요구사항 내용이 비어 있습니다." in page_text
    assert "'없는팀' 부서를 찾을 수 없습니다." in page_text
    assert 'name="sealed"' not in refused.get_data(as_text=True)  # no way to confirm it


def test_a_preview_is_for_its_own_user_and_audit(app, org, make):
    other_auditor = make.user("audit")
    other_audit = make.audit()
    db.session.commit()
    client = client_for(app, org["auditor"])
    page = f"/audits/{org['audit'].id}/import"
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get(page).get_data(as_text=True)).group(1)
    good = workbook_bytes([[1, "건의사항", "요구사항", "", "", None]])
    html = client.post(page, data={"csrf_token": token, "file": (io.BytesIO(good), "a.xlsx")}) \
        .get_data(as_text=True)
    sealed = re.search(r'name="sealed" value="([^"]+)"', html).group(1)
    elsewhere = client.post(f"/audits/{other_audit.id}/import/confirm",
                            data={"csrf_token": token, "sealed": sealed, "confirm": "y"},
                            follow_redirects=True)
    assert "미리 보기가 만료되었거나 올바르지 않습니다." in text(elsewhere)
    someone = client_for(app, other_auditor)
    their_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                            someone.get(page).get_data(as_text=True)).group(1)
    stolen = someone.post(f"{page}/confirm", data={"csrf_token": their_token, "sealed": sealed,
                                                   "confirm": "y"}, follow_redirects=True)
    assert "미리 보기가 만료되었거나 올바르지 않습니다." in text(stolen)
    assert db.session.scalar(select(func.count(Recommendation.id))) == 0


def test_the_command_checks_previews_and_imports_into_a_new_audit(app, org, tmp_path):
    runner = app.test_cli_runner()
    good = tmp_path / "목록.xlsx"
    good.write_bytes(workbook_bytes([[1, "건의사항", "명령으로 가져온 요구사항", "AI동행팀", "", None]]))
    bad = tmp_path / "틀린.xlsx"
    bad.write_bytes(workbook_bytes([[1, "없는구분", "내용", "", "", None]]))

    refused = runner.invoke(args=["import", str(bad), "--audit", str(org["audit"].id)])
    assert refused.exit_code == 1 and "오류 [import_invalid]" in refused.output
    assert "요구사항 2행 B2(구분): 구분 '없는구분'을 알 수 없습니다." in refused.output
    dry = runner.invoke(args=["import", str(good), "--year", "2027", "--title", "2027 행정사무감사",
                              "--dry-run"])
    assert dry.exit_code == 0 and "저장한 것은 없습니다" in dry.output
    assert db.session.scalar(select(func.count(Audit.id))) == 1
    target = runner.invoke(args=["import", str(good)])
    assert target.exit_code == 1 and "[import_target]" in target.output

    done = runner.invoke(args=["import", str(good), "--year", "2027", "--title", "2027 행정사무감사",
                               "--by", org["auditor"].login])
    assert done.exit_code == 0, done.output
    assert "요구사항 1건을 더했습니다" in done.output and org["auditor"].login in done.output
    db.session.expire_all()
    created = db.session.scalar(select(Audit).where(Audit.title == "2027 행정사무감사"))
    assert created is not None and created.year == 2027
    again = runner.invoke(args=["import", str(good), "--audit", str(created.id)])
    assert again.exit_code == 0 and "요구사항 0건을 더했습니다 (이미 있어 그대로 둔 것 1건)" in again.output


def test_the_seed_report_exported_as_xlsx_imports_with_the_same_table_and_texts(seeded):
    from auditflow.models import User
    from auditflow.reports import xlsx
    from auditflow.reports.content import build_report
    from auditflow.reports.summary import latest_audit, summarize
    from auditflow.reports.summary_formats import table
    from auditflow.services import audits

    original = latest_audit()
    as_reported = build_report(original, original.reference_date)
    data = xlsx.to_bytes(as_reported)
    auditor = db.session.scalar(select(User).where(User.login == "audit"))
    plan = importing.plan(None, data, "2025 처리결과.xlsx")
    assert plan.ok and plan.is_report and plan.reported_on == original.reference_date
    copy = audits.create(auditor, year=original.year, title="2025 행정사무감사 (사본)",
                         body=original.body, organisation=original.organisation,
                         reference_date=plan.reported_on)
    before = db.session.scalar(select(func.count(Notification.id)))
    importing.apply(plan, copy, auditor)
    db.session.commit()

    assert table(summarize(copy)) == table(summarize(original, original.reference_date))
    again = build_report(copy)
    for old, new in zip(as_reported.items, again.items, strict=True):
        assert (new.number, new.category, new.council_text, new.lead_team, new.supporting_teams,
                new.due_date, new.state) == (old.number, old.category, old.council_text,
                                             old.lead_team, old.supporting_teams, old.due_date,
                                             old.state)
        assert new.result_lines() == old.result_lines(), new.number
    # The history says where each came from and as of when; nobody was told of old work.
    ids = select(Recommendation.id).where(Recommendation.audit_id == copy.id)
    started = db.session.scalars(select(History).where(
        History.trigger == "start", History.recommendation_id.in_(ids))).all()
    assert started and all("'2025 처리결과.xlsx'에서 가져옴" in row.comment
                           and "'26.1.31. 기준 보고 내용" in row.comment for row in started)
    assert db.session.scalar(select(func.count(Notification.id))) == before
    # And once more: nothing new.
    assert importing.plan(copy, data, "2025 처리결과.xlsx").new_items == []


def test_a_report_row_must_be_reachable(org):
    data = workbook_bytes([
        [1, "건의사항", "담당 없는 완료", "", "", None, "추진완료", "ㅇ 했음", "", ""],
        [2, "건의사항", "내용 없는 완료", "AI동행팀", "", None, "추진완료", "작성 전", "", ""],
        [3, "건의사항", "사유 없는 미반영", "AI동행팀", "", None, "미반영", "ㅇ 검토", "", ""],
        [4, "건의사항", "모르는 상황", "AI동행팀", "", None, "보류", "", "", ""],
        [5, "건의사항", "담당자 없는 팀", "창의경영팀", "", None, "추진중", "", "", ""],
    ], header=[*HEADER, "추진상황", "추진내용", "향후계획", "미반영 사유"])
    reasons = {p.where.split(" ")[1]: p.reason for p in importing.plan(org["audit"], data, "r.xlsx").problems}
    assert reasons["2행"] == ("'추진완료'인 요구사항은 주관 부서가 있어야 합니다. "
                             "파일에 적거나, 가져올 때 주관 부서를 고르세요.")
    assert reasons["3행"] == "'추진완료'인 요구사항의 추진내용이 비어 있습니다."
    assert reasons["4행"] == "미반영인 요구사항은 미반영 사유가 있어야 합니다."
    assert reasons["5행"].startswith("추진상황 '보류'를 알 수 없습니다.")
    assert reasons["6행"].startswith("'창의경영팀'에 부서 담당자가 없어")
