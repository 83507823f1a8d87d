"""가져오기 from HWPX (한글): this product's report and the council's list in two-column
tables, read with python-hwpx into the rows the XLSX gives, so the same checks, preview,
confirmation and idempotence apply. The documents are made here with python-hwpx; the real
documents of the shared material are read where they lie."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from hwpx import HwpxDocument
from sqlalchemy import func, select

from auditflow.extensions import db
from auditflow.models import Audit, History, Notification, OrgUnit, Recommendation, User
from auditflow.services import importing
from auditflow.services.import_hwpx import UNSTRUCTURED, heading_category
from auditflow.services.import_readers import UnreadableFile
from auditflow.vocabulary import Category, State, UnitKind
from tests.pages_helpers import client_for, text


def hwpx_bytes(*sections, title="2026 행정사무감사 처리요구사항", reference="'26.6.30. 기준",
               header=("요구사항", "조치결과")) -> bytes:
    """A council list: a title, its day, then per (heading, rows) a two-column table whose
    rows are (left text, right cell's lines)."""
    doc = HwpxDocument.new()
    doc.paragraphs[0].text = title
    doc.add_paragraph(reference)
    for heading, rows in sections:
        doc.add_paragraph(heading)
        table = doc.add_table(1 + len(rows), 2)
        table.cell(0, 0).text, table.cell(0, 1).text = header
        for number, (left, right) in enumerate(rows, start=1):
            table.cell(number, 0).text = left
            cell = table.cell(number, 1)
            if right:
                cell.paragraphs[0].text = right[0]
                for line in right[1:]:
                    cell.add_paragraph(line)
    try:
        return doc.to_bytes()
    finally:
        doc.close()


@pytest.fixture
def org(make):
    lead, helper = make.team("AI동행팀"), make.team("창의경영팀")
    db.session.add(OrgUnit(code="div-x", name="경영기획본부", kind=UnitKind.DIVISION.value))
    worker = make.user("department", team=lead)
    auditor = make.user("audit")
    audit = make.audit()
    db.session.commit()
    return {"lead": lead, "helper": helper, "audit": audit, "auditor": auditor, "worker": worker}


def counts() -> tuple[int, int, int]:
    return (db.session.scalar(select(func.count(Recommendation.id))),
            db.session.scalar(select(func.count(History.id))),
            db.session.scalar(select(func.count(Audit.id))))


COUNCIL_LIST = (
    ("1. 시정·처리 요구사항 (2건)", [
        ("ㅇ 첫 요구사항은 아직 조치 전", []),
        ("ㅇ 둘째 요구사항", ["□ 주관 부서 : AI동행팀", "□ 협조 부서 : 창의경영팀", "□ 처리 기한 : 2026-09-30"]),
    ]),
    ("2. 건의 사항", [
        ("ㅇ 셋째 요구사항은 추진 중", ["□ 추진상황 : 추진중", "□ 주관 부서 : AI동행팀", "□ 추진내용",
                                  " ㅇ 개선 계획 수립 착수", "   - 관계 부서 협의", "□ 향후계획", " ㅇ 6월 중 완료"]),
    ]),
)


def test_a_council_list_in_two_column_tables_imports_and_twice_adds_nothing(org):
    data = hwpx_bytes(*COUNCIL_LIST)
    plan = importing.plan(org["audit"], data, "처리요구.hwpx")
    assert plan.ok, plan.problems
    assert [(i.number, i.category, i.state) for i in plan.items] == [
        (1, Category.CORRECTIVE, State.RECEIVED), (2, Category.CORRECTIVE, State.RECEIVED),
        (3, Category.SUGGESTION, State.IN_PROGRESS)]
    written = {r.number: r for r in importing.apply(plan, org["audit"], org["auditor"])}
    db.session.commit()
    first, second, third = written[1], written[2], written[3]
    assert (first.council_text, first.lead_team_id, first.state) == (
        "첫 요구사항은 아직 조치 전", None, "received")
    assert (second.lead_team_id, [t.id for t in second.supporting_teams],
            second.due_date.isoformat()) == (org["lead"].id, [org["helper"].id], "2026-09-30")
    assert (third.state, third.lead_team_id) == ("in_progress", org["lead"].id)
    # As typed: the report's one space before every line comes off, the levels stay.
    assert third.action_details == "ㅇ 개선 계획 수립 착수\n  - 관계 부서 협의"
    assert third.future_plan == "ㅇ 6월 중 완료"
    started = db.session.scalars(select(History).where(
        History.recommendation_id == third.id, History.trigger == "start")).one()
    assert started.actor_id == org["worker"].id
    assert started.comment == (f"'처리요구.hwpx'에서 가져옴 (SHA-256 {plan.sha256[:16]}…), "
                               "'26.6.30. 기준 보고 내용")

    before = counts()
    again = importing.plan(org["audit"], data, "처리요구.hwpx")
    assert again.ok and again.new_items == [] and again.unchanged == 3
    assert importing.apply(again, org["audit"], org["auditor"]) == []
    assert counts() == before


def test_a_heading_is_read_without_its_decoration():
    assert [heading_category(h) for h in ("1. 건의 사항 (7건)", "□ 시정·처리 요구사항", "<기타 사항>",
                                          "가. 건의사항(총 3건)")] == [
        "건의 사항", "시정·처리 요구사항", "기타 사항", "건의사항"]


@pytest.mark.parametrize(("sections", "where", "reason"), [
    ((("의견 사항", [("ㅇ 내용", [])]),), "1번째 표 2행 표 위 제목(구분)", "구분 '의견 사항'을 알 수 없습니다."),
    ((("건의 사항", [("ㅇ 내용", ["□ 주관 부서 : AI동행"])]),), "1번째 표 2행 오른쪽 칸(주관 부서)",
     "'AI동행' 부서를 찾을 수 없습니다. 'AI동행팀'을 뜻하나요?"),
    ((("건의 사항", [("ㅇ 내용", ["□ 주관 부서 : 경영기획본부"])]),), "1번째 표 2행 오른쪽 칸(주관 부서)",
     "'경영기획본부'는 본부입니다."),
    ((("건의 사항", [("ㅇ ", [])]),), "1번째 표 2행 왼쪽 칸(요구사항)", "요구사항 내용이 비어 있습니다."),
    ((("건의 사항", [("3. 내용", []), ("3. 다른 내용", [])]),), "1번째 표 3행 왼쪽 칸(번호)",
     "번호 3이 1번째 표 2행에도 있습니다."),
    ((("건의 사항", [("ㅇ 내용", ["그냥 적은 조치 내용"])]),), "1번째 표 2행 오른쪽 칸(추진상황)", UNSTRUCTURED),
    ((("건의 사항", [("ㅇ 내용", ["□ 추진상황 : 보류"])]),), "1번째 표 2행 오른쪽 칸(추진상황)",
     "추진상황 '보류'를 알 수 없습니다."),
    ((("건의 사항", [("ㅇ 내용", ["□ 추진상황 : 추진완료", "□ 추진내용", " ㅇ 했음"])]),),
     "1번째 표 2행 (주관 부서)", "'추진완료'인 요구사항은 주관 부서가 있어야 합니다. 파일에 적거나, 가져올 때 주관 부서를 고르세요."),
    ((("건의 사항", [("ㅇ 내용", ["□ 처리 기한 : 곧"])]),), "1번째 표 2행 오른쪽 칸(처리 기한)",
     "'곧'은 날짜로 읽을 수 없습니다."),
])
def test_each_problem_names_its_table_row_and_cell_and_nothing_is_written(org, sections, where, reason):
    good = ("시정·처리 요구사항", [("ㅇ 바른 요구사항", [])])
    plan = importing.plan(org["audit"], hwpx_bytes(*sections, good), "틀린.hwpx")
    assert not plan.ok
    assert any(p.where == where and p.reason.startswith(reason) for p in plan.problems), plan.problems
    before = counts()
    with pytest.raises(importing.ImportRefused) as refused:
        importing.apply(plan, org["audit"], org["auditor"])
    assert refused.value.code == "import_invalid"
    db.session.rollback()
    assert counts() == before


def test_a_table_with_the_templates_header_reads_as_the_xlsx_does(org):
    doc = HwpxDocument.new()
    doc.paragraphs[0].text = "요구사항 목록"
    table = doc.add_table(3, 4)
    for column, value in enumerate(("번호", "구분", "요구사항", "주관 부서")):
        table.cell(0, column).text = value
    for column, value in enumerate(("7", "기타", "자료 제출 바람", "창의경영팀")):
        table.cell(1, column).text = value
    for column, value in enumerate(("8", "건의", "", "")):
        table.cell(2, column).text = value
    plan = importing.plan(org["audit"], doc.to_bytes(), "목록.hwpx")
    doc.close()
    assert [(i.number, i.category, i.lead_team) for i in plan.items] == [
        (7, Category.OTHER, org["helper"])]
    assert [str(p) for p in plan.problems] == ["1번째 표 3행 3번째 칸(요구사항): 요구사항 내용이 비어 있습니다."]


def _without_sections(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            if not entry.filename.startswith("Contents/section"):
                target.writestr(entry, source.read(entry))
    return out.getvalue()


def _encrypted(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            body = source.read(entry)
            if entry.filename == "META-INF/manifest.xml":
                body = body.replace(b'manifest:1.0"/>', b'manifest:1.0"><odf:file-entry odf:full-path='
                                    b'"Contents/section0.xml"><odf:encryption-data/></odf:file-entry>'
                                    b'</odf:manifest>')
                assert b"encryption-data" in body
            target.writestr(entry, body)
    return out.getvalue()


def _plain_document() -> bytes:
    doc = HwpxDocument.new()
    doc.paragraphs[0].text = "요구사항 표가 없는 문서"
    table = doc.add_table(2, 2)
    table.cell(0, 0).text, table.cell(0, 1).text = "현행", "개정안"
    try:
        return doc.to_bytes()
    finally:
        doc.close()


@pytest.mark.parametrize(("make_data", "code"), [
    (lambda: b"\x00\x01 random bytes, not a document" * 40, "import_wrong_type"),
    (lambda: b"PK\x03\x04 a broken zip" * 10, "file_corrupt"),
    (lambda: _without_sections(hwpx_bytes(*COUNCIL_LIST)), "hwpx_incomplete"),
    (lambda: _encrypted(hwpx_bytes(*COUNCIL_LIST)), "import_encrypted"),
    (_plain_document, "import_no_items"),
    (lambda: hwpx_bytes(("건의 사항", [])), "import_empty"),
])
def test_a_hwpx_that_is_not_a_list_is_refused_in_korean_and_nothing_is_written(org, make_data, code):
    before = counts()
    with pytest.raises(UnreadableFile) as refused:
        importing.plan(org["audit"], make_data(), "x.hwpx")
    assert refused.value.code == code and re.search(r"[가-힣]{4}", refused.value.message)
    assert counts() == before


@pytest.mark.parametrize(("name", "code"), [
    ("mfds_admin_notice.hwpx", "import_no_items"),  # a real 행정예고, its tables are no list
    ("seoul_sihaengmun.hwpx", "import_no_items"),  # a real 시행문
    ("irb_form_blank.hwpx", "hwpx_incomplete"),  # no Contents/header.xml
    ("table.hwp", "import_wrong_type"),  # HWP 5 binary: not read
])
def test_the_shared_real_documents_are_refused_with_a_reason(app, org, shared, name, code):
    data = shared.evidence(name).read_bytes()
    with pytest.raises(UnreadableFile) as refused:
        importing.plan(org["audit"], data, name)
    assert refused.value.code == code, refused.value.message
    # The page says so in Korean, and writes nothing.
    client = client_for(app, org["auditor"])
    page = f"/audits/{org['audit'].id}/import"
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get(page).get_data(as_text=True)).group(1)
    before = counts()
    answer = client.post(page, data={"csrf_token": token, "file": (io.BytesIO(data), name)})
    assert answer.status_code == 400 and refused.value.message in text(answer)
    assert counts() == before


def test_the_page_takes_a_hwpx_with_the_chosen_lead_team_and_writes_on_confirmation(app, org):
    report = hwpx_bytes(("건의 사항", [("ㅇ 웹으로 가져온 완료 건", ["□ 추진상황 : 추진완료", "□ 추진내용", " ㅇ 조치함"])]))
    client = client_for(app, org["auditor"])
    page = f"/audits/{org['audit'].id}/import"
    form = client.get(page).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    assert f'<option value="{org["lead"].id}">AI동행팀</option>' in form and "경영기획본부" not in form

    unassigned = client.post(page, data={"csrf_token": token, "file": (io.BytesIO(report), "보고.hwpx")})
    assert unassigned.status_code == 400 and "가져올 때 주관 부서를 고르세요" in text(unassigned)
    before = counts()
    preview = client.post(page, data={"csrf_token": token, "lead_team": str(org["lead"].id),
                                      "file": (io.BytesIO(report), "보고.hwpx")})
    assert preview.status_code == 200 and counts() == before
    assert "웹으로 가져온 완료 건" in text(preview) and "처리결과 보고서로 읽었습니다" in text(preview)
    sealed = re.search(r'name="sealed" value="([^"]+)"', preview.get_data(as_text=True)).group(1)
    done = client.post(f"{page}/confirm", data={"csrf_token": token, "sealed": sealed, "confirm": "y"},
                       follow_redirects=True)
    assert "'보고.hwpx'에서 요구사항 1건을 가져왔습니다." in text(done)
    db.session.expire_all()
    item = db.session.scalars(select(Recommendation)).one()
    assert (item.state, item.lead_team_id, item.action_details) == ("completed", org["lead"].id, "ㅇ 조치함")

    broken = client.post(page, data={"csrf_token": token,
                                     "file": (io.BytesIO(b"not a zip at all" * 50), "깨진.hwpx")})
    assert broken.status_code == 400 and "한글(HWPX) 문서를 올리세요" in text(broken)
    assert "이름은 한글(HWPX) 문서이지만 내용이 한글(HWPX) 문서가 아닙니다" in text(broken)


def test_the_command_takes_a_hwpx_and_a_lead_team(app, org, tmp_path):
    runner = app.test_cli_runner()
    path = tmp_path / "보고.hwpx"
    path.write_bytes(hwpx_bytes(("건의 사항", [("ㅇ 명령으로 가져온 건", ["□ 추진상황 : 추진중"])])))
    unknown = runner.invoke(args=["import", str(path), "--audit", str(org["audit"].id),
                                  "--team", "AI동행"])
    assert unknown.exit_code == 1 and "오류 [import_team]" in unknown.output
    assert "'AI동행팀'을 뜻하나요?" in unknown.output
    without = runner.invoke(args=["import", str(path), "--audit", str(org["audit"].id)])
    assert without.exit_code == 1 and "[import_invalid]" in without.output
    before = counts()
    done = runner.invoke(args=["import", str(path), "--year", "2027", "--title", "2027 행정사무감사",
                               "--team", "AI동행팀"])
    assert done.exit_code == 0, done.output
    assert "요구사항 1건을 더했습니다" in done.output and "추진 중 · AI동행팀" in done.output
    assert "파일에 주관 부서가 없는 요구사항은 'AI동행팀'에서 맡습니다." in done.output
    db.session.expire_all()
    created = db.session.scalar(select(Audit).where(Audit.title == "2027 행정사무감사"))
    assert created.reference_date.isoformat() == "2026-06-30"
    assert counts()[0] == before[0] + 1


def test_the_seed_report_as_hwpx_and_as_xlsx_imports_with_the_same_table_and_texts(seeded):
    from auditflow.reports import hwpx, xlsx
    from auditflow.reports.content import build_report
    from auditflow.reports.summary import latest_audit, summarize
    from auditflow.reports.summary_formats import table
    from auditflow.services import audits

    original = latest_audit()
    as_reported = build_report(original, original.reference_date)
    auditor = db.session.scalar(select(User).where(User.login == "audit"))
    # The report names no teams: the importer gives them one, which has a 부서 담당자.
    team = db.session.scalar(select(OrgUnit).where(OrgUnit.name == as_reported.items[0].lead_team))
    told = db.session.scalar(select(func.count(Notification.id)))
    copies = {}
    for fmt, writer in (("hwpx", hwpx), ("xlsx", xlsx)):
        data = writer.to_bytes(as_reported)
        name = f"2025 처리결과.{fmt}"
        plan = importing.plan(None, data, name, lead_team=team if fmt == "hwpx" else None)
        assert plan.ok and plan.is_report and plan.reported_on == original.reference_date, plan.problems
        copy = audits.create(auditor, year=original.year, title=f"2025 행정사무감사 ({fmt} 사본)",
                             body=original.body, organisation=original.organisation,
                             reference_date=plan.reported_on)
        importing.apply(plan, copy, auditor)
        db.session.commit()
        copies[fmt] = copy
        started = db.session.scalars(select(History).where(
            History.trigger == "start", History.recommendation_id.in_(
                select(Recommendation.id).where(Recommendation.audit_id == copy.id)))).all()
        assert started and all(row.comment == f"'{name}'에서 가져옴 (SHA-256 {plan.sha256[:16]}…), "
                               "'26.1.31. 기준 보고 내용" for row in started)
        before = counts()
        again = importing.plan(copy, data, name, lead_team=team)
        assert again.new_items == [] and importing.apply(again, copy, auditor) == []
        assert counts() == before

    expected = table(summarize(original, original.reference_date))
    assert table(summarize(copies["hwpx"])) == table(summarize(copies["xlsx"])) == expected
    assert summarize(copies["hwpx"]).total.total == len(as_reported.items)
    from_hwpx, from_xlsx = build_report(copies["hwpx"]), build_report(copies["xlsx"])
    for old, new, other in zip(as_reported.items, from_hwpx.items, from_xlsx.items, strict=True):
        assert (new.number, new.category, new.council_text, new.state) == (
            old.number, old.category, old.council_text, old.state) == (
            other.number, other.category, other.council_text, other.state)
        assert new.result_lines() == old.result_lines() == other.result_lines(), new.number
        assert new.lead_team == team.name  # the importer's choice, since the file names none
    # Old work: nobody was told of it.
    assert db.session.scalar(select(func.count(Notification.id))) == told


def test_a_report_of_every_state_reads_back_as_it_was_written(org, make):
    from auditflow.reports import hwpx
    from auditflow.reports.content import build_report
    from auditflow.reports.summary import summarize
    from auditflow.reports.summary_formats import table
    from auditflow.services import recommendations as ops

    source = make.audit(2024)
    states = [("received", Category.CORRECTIVE), ("not_reflected", Category.CORRECTIVE),
              ("in_progress", Category.SUGGESTION), ("reviewing", Category.SUGGESTION),
              ("completed", Category.OTHER)]
    for number, (state, category) in enumerate(states, start=1):
        item = make.recommendation(audit=source, number=number, state=state, category=category,
                                   text=f"{number}번 요구사항 (상태 {state})")
        if state == "in_progress":
            worker = db.session.scalars(select(User).where(User.team_id == item.lead_team_id)).first()
            ops.edit_result(item, worker, action_details="ㅇ 착수\n  - 세부 추진\n    1. 첫 단계",
                            future_plan="ㅇ 하반기 완료\n  ※ 예산 확보 후")
    db.session.commit()
    written = build_report(source)
    data = hwpx.to_bytes(written)
    plan = importing.plan(org["audit"], data, "2024 처리결과.hwpx", lead_team=org["lead"])
    assert plan.ok and plan.is_report, plan.problems
    importing.apply(plan, org["audit"], org["auditor"])
    db.session.commit()
    read = build_report(org["audit"])
    assert table(summarize(org["audit"])) == table(summarize(source))
    assert [(i.number, i.category, i.state, i.council_text, i.result_lines()) for i in read.items] == [
        (i.number, i.category, i.state, i.council_text, i.result_lines()) for i in written.items]
    declined = next(i for i in read.items if i.state is State.NOT_REFLECTED)
    assert declined.decline_reason == "반영 불가"
    at_work = db.session.scalar(select(Recommendation).where(
        Recommendation.audit_id == org["audit"].id, Recommendation.state == "in_progress"))
    assert (at_work.action_details, at_work.future_plan) == (
        "ㅇ 착수\n  - 세부 추진\n    1. 첫 단계", "ㅇ 하반기 완료\n  ※ 예산 확보 후")
