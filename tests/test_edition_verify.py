"""Issued editions from the command line and their verification (검증) and comparison (판 비교).

``report issue`` asks for the same report job as the 발행 button and makes it at once;
``report verify`` makes every file of an edition again from the history and compares
three SHA-256 values (made again, recorded, kept on disk); ``report diff`` and the page's
판 비교 list what changed item by item. Small audits; only the formats a test needs,
except the first test, which verifies all five.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import func, select, text

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import IssuedReport, IssuedReportFile, ReportJob
from auditflow.models.base import append_only_ddl
from auditflow.reports import FORMATS, WRITERS
from auditflow.services import edition_diff, verification
from auditflow.services import recommendations as ops
from auditflow.services.issuing import issue
from auditflow.services.verification import Outcome, outcome_of
from auditflow.storage.transactional import file_store
from auditflow.vocabulary import ReportJobKind, ReportJobState
from tests.auth_helpers import login, post_form
from tests.conftest import owner_engine, rendered, tamper_stored
from tests.factories import PASSWORD
from tests.job_helpers import run_queued_jobs


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=["report", *args])


@pytest.fixture
def small(make):
    """An audit of two items (one at work, one received), its liaison, committed."""
    audit = make.audit()
    lead = make.team("검증팀")
    first = make.recommendation(audit=audit, lead=lead, state="in_progress", number=1,
                                text="첫째 요구사항의 방안을 마련하기 바람.")
    make.recommendation(audit=audit, lead=lead, number=2, text="둘째 요구사항을 검토하기 바람.")
    liaison = make.user("liaison")
    auditor = make.user("audit")
    worker = make.user("department", team=lead)
    db.session.commit()
    return {"audit": audit, "first": first, "liaison": liaison, "auditor": auditor,
            "worker": worker}


@pytest.fixture
def only_csv_and_html(monkeypatch):
    """The other writers are "not installed": editions of two small formats, made fast."""
    for fmt in FORMATS:
        if fmt not in ("csv", "html"):
            monkeypatch.setitem(WRITERS, fmt, "auditflow.reports.no_such_writer")


def today() -> str:
    return dates.today().isoformat()


def cli_issue(app, small, *more: str):
    return run(app, "issue", "--audit", str(small["audit"].id), "--as-of", today(),
               "--by", small["liaison"].login, *more)


def only_edition() -> IssuedReport:
    db.session.expire_all()
    editions = list(db.session.scalars(select(IssuedReport)))
    assert len(editions) == 1
    return editions[0]


def kept_path(file: IssuedReportFile) -> Path:
    return file_store().path(file.storage_key)


# ─── issue, then verify ──────────────────────────────────────────────────────


def test_cli_issues_verifies_all_five_formats_and_names_a_tampered_file(app, small):
    issued = cli_issue(app, small)
    assert issued.exit_code == 0, issued.stderr
    edition = only_edition()
    assert sorted(file.format for file in edition.files) == sorted(FORMATS)
    assert f"제1판을 발행했습니다 (발행 번호 {edition.id}" in issued.stdout
    for file in edition.files:  # each file's SHA-256 printed, as recorded and as kept
        assert file.sha256 in issued.stdout
        assert hashlib.sha256(kept_path(file).read_bytes()).hexdigest() == file.sha256
    assert "PDF 완료" in issued.stdout  # the progress, format by format
    job = db.session.scalar(select(ReportJob))  # the 발행 button's job, made by the command
    assert job.kind == ReportJobKind.ISSUE and job.state == ReportJobState.DONE
    assert job.issued_report_id == edition.id

    fresh = run(app, "verify", "--edition", str(edition.id))
    assert fresh.exit_code == 0, fresh.stderr
    for file in edition.files:
        assert f"{file.file_name}: 일치" in fresh.stdout
    assert "제1판: 일치 (파일 5개 모두" in fresh.stdout

    csv_file = next(file for file in edition.files if file.format == "csv")
    with kept_path(csv_file).open("ab") as stream:
        stream.write(b"\n")
    tampered = run(app, "verify", "--edition", str(edition.id))
    assert tampered.exit_code == 1
    assert "오류 [edition_mismatch]" in tampered.stderr
    assert f"{csv_file.file_name}: 불일치 [file_changed]" in tampered.stderr
    assert "보관 파일 변조 또는 손상" in tampered.stderr
    for file in edition.files:
        if file.format != "csv":
            assert f"{file.file_name}: 일치" in tampered.stdout
    assert f"파일 5개 중 1개: {csv_file.file_name}" in tampered.stderr


@contextlib.contextmanager
def update_allowed(table: str) -> Iterator[None]:
    """Someone with the database's own rights drops the append-only trigger, changes a
    row and puts the trigger back (as the models make it)."""
    engine = owner_engine()  # under the application's role only the owner may
    dialect = engine.dialect.name
    statements = append_only_ddl(table, "issued reports are never changed")[dialect]
    with engine.begin() as connection:
        if dialect == "sqlite":
            connection.execute(text(f"DROP TRIGGER {table}_no_update"))
        else:
            connection.execute(text(f"DROP TRIGGER {table}_no_update ON {table}"))
    try:
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(text(statements[0] if dialect == "sqlite" else statements[1]))


def test_verify_names_a_changed_hash(app, small, only_csv_and_html):
    assert cli_issue(app, small).exit_code == 0
    edition = only_edition()
    html_file = next(file for file in edition.files if file.format == "html")
    db.session.commit()
    with update_allowed("issued_report_file"), owner_engine().begin() as connection:
        connection.execute(text("UPDATE issued_report_file SET sha256 = :forged WHERE id = :id"),
                           {"forged": "0" * 64, "id": html_file.id})
    result = run(app, "verify", "--audit", str(small["audit"].id), "--edition", "1")
    assert result.exit_code == 1
    assert f"{html_file.file_name}: 불일치 [hash_changed]" in result.stderr
    assert "발행 기록 변조" in result.stderr
    assert "발행 기록     " + "0" * 64 in result.stdout
    csv_name = next(file.file_name for file in edition.files if file.format == "csv")
    assert f"{csv_name}: 일치" in result.stdout
    # The trigger is back: the row cannot be changed again.
    with pytest.raises(Exception, match="never changed"), owner_engine().begin() as connection:
        connection.execute(text("UPDATE issued_report_file SET sha256 = 'x'"))


def test_verify_names_an_edition_the_history_no_longer_gives(app, small, only_csv_and_html):
    assert cli_issue(app, small).exit_code == 0
    edition = only_edition()
    # A change written as if before the moment of issue (as a backdated import could):
    # the history no longer gives the edition's texts.
    ops.edit_result(small["first"], small["worker"], action_details="ㅇ 나중에 고친 내용",
                    future_plan=None, at=edition.issued_at - timedelta(microseconds=1))
    db.session.commit()
    result = run(app, "verify", "--edition", str(edition.id))
    assert result.exit_code == 1
    for file in edition.files:
        assert f"{file.file_name}: 불일치 [regenerated_differs]" in result.stderr


def test_a_change_after_the_moment_of_issue_leaves_the_edition_verified(app, small,
                                                                        only_csv_and_html):
    """The edition is the history as it stood when issued, even for the same day."""
    assert cli_issue(app, small).exit_code == 0
    edition = only_edition()
    ops.edit_result(small["first"], small["worker"], action_details="ㅇ 발행 뒤에 고친 내용",
                    future_plan=None)
    db.session.commit()
    result = run(app, "verify", "--edition", str(edition.id))
    assert result.exit_code == 0, result.stderr
    assert "제1판: 일치" in result.stdout


def test_verify_of_a_missing_edition_is_refused(app, small):
    by_id = run(app, "verify", "--edition", "999")
    assert by_id.exit_code == 1
    assert "오류 [edition_not_found]" in by_id.stderr and "발행 번호 999" in by_id.stderr
    by_number = run(app, "verify", "--audit", str(small["audit"].id), "--edition", "3")
    assert by_number.exit_code == 1
    assert "오류 [edition_not_found]" in by_number.stderr and "제3판" in by_number.stderr


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_a_missing_kept_file_is_named(app, small, only_csv_and_html):
    assert cli_issue(app, small).exit_code == 0
    edition = only_edition()
    csv_file = next(file for file in edition.files if file.format == "csv")
    tamper_stored(csv_file.storage_key, None)
    result = run(app, "verify", "--edition", str(edition.id))
    assert result.exit_code == 1
    assert f"{csv_file.file_name}: 불일치 [file_missing]" in result.stderr


@pytest.mark.parametrize(("args", "code"), [
    (("--audit", "999"), "audit_not_found"),
    (("--by", "nobody"), "user_not_found"),
    (("--by", "{worker}"), "forbidden"),
    (("--as-of", "{tomorrow}"), "as_of_in_future"),
])
def test_cli_issue_refusals_have_codes_and_issue_nothing(app, small, only_csv_and_html,
                                                         args, code):
    values = {"worker": small["worker"].login,
              "tomorrow": (dates.today() + timedelta(days=1)).isoformat()}
    options = {"--audit": str(small["audit"].id), "--as-of": today(),
               "--by": small["liaison"].login}
    options[args[0]] = args[1].format(**values)
    result = run(app, "issue", *(part for pair in options.items() for part in pair))
    assert result.exit_code == 1
    assert f"오류 [{code}]" in result.stderr
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(IssuedReport)) == 0
    assert db.session.scalar(select(func.count()).select_from(ReportJob)) == 0


def test_the_file_command_still_works_beside_the_subcommands(app, small, tmp_path):
    output = tmp_path / "보고서.csv"
    result = run(app, "--audit", str(small["audit"].id), "--format", "csv", "--output",
                 str(output))
    assert result.exit_code == 0, result.stderr
    assert output.read_bytes()
    missing = run(app, "--audit", str(small["audit"].id))
    assert missing.exit_code == 2 and "--format" in missing.stderr


@pytest.mark.parametrize(("regenerated", "stored", "on_disk", "outcome"), [
    ("a", "a", "a", Outcome.MATCH),
    ("a", "a", "b", Outcome.FILE_CHANGED),
    ("a", "b", "a", Outcome.HASH_CHANGED),
    ("b", "a", "a", Outcome.REGENERATED_DIFFERS),
    ("a", "b", "c", Outcome.ALL_DIFFER),
    ("a", "a", None, Outcome.FILE_MISSING),
    (None, "a", "a", Outcome.FORMAT_UNAVAILABLE),
])
def test_which_of_the_three_differs(regenerated, stored, on_disk, outcome):
    assert outcome_of(regenerated, stored, on_disk) is outcome


# ─── the 검증 button ──────────────────────────────────────────────────────────


def signed_in(app, user):
    client = app.test_client()
    assert login(client, user.login, PASSWORD).status_code == 303
    return client


@pytest.mark.parametrize("who", ["liaison", "auditor"])
@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_the_verify_button_runs_a_job_and_shows_the_outcome(app, small, only_csv_and_html, who):
    edition = issue(small["audit"], dates.today(), small["liaison"]).issued
    db.session.commit()
    audit_id = small["audit"].id
    client = signed_in(app, small[who])
    page = f"/summary?audit={audit_id}&as_of={today()}"
    assert "검증" in client.get(page).get_data(as_text=True)
    response = post_form(client, f"/summary/{audit_id}/issued/{edition.id}/verify",
                         {"as_of": today()}, token_from=page)
    assert response.status_code == 303
    job_id = int(response.location.split("job=")[1].split("#")[0])
    job = db.session.get(ReportJob, job_id)
    assert job.kind == ReportJobKind.VERIFY and job.issued_report_id == edition.id
    assert job.state == ReportJobState.QUEUED
    again = post_form(client, f"/summary/{audit_id}/issued/{edition.id}/verify",
                      {"as_of": today()}, token_from=page)
    assert again.location == response.location  # a second click joins the job under way
    assert run_queued_jobs(app) == ["done"]
    status = client.get(f"/summary/jobs/{job_id}/status").get_json()
    assert status["finished"] and status["state"] == "done"
    assert status["text"].startswith("제1판: 일치")
    assert "일치" in status["result_html"] and "불일치" not in status["result_html"]
    shown = client.get(f"{page}&job={job_id}").get_data(as_text=True)
    for file in edition.files:
        assert str(escape(file.file_name)) in shown
    assert "제1판: 일치" in shown

    tamper_stored(next(f for f in edition.files if f.format == "html").storage_key, b"<p>forged")
    response = post_form(client, f"/summary/{audit_id}/issued/{edition.id}/verify",
                         {"as_of": today()}, token_from=page)
    assert run_queued_jobs(app) == ["done"]
    job_id = int(response.location.split("job=")[1].split("#")[0])
    status = client.get(f"/summary/jobs/{job_id}/status").get_json()
    assert "불일치" in status["text"] and "[file_changed]" in status["result_html"]


def test_a_department_may_not_verify(app, small, only_csv_and_html):
    edition = issue(small["audit"], dates.today(), small["liaison"]).issued
    db.session.commit()
    client = signed_in(app, small["worker"])
    response = post_form(client, f"/summary/{small['audit'].id}/issued/{edition.id}/verify",
                         {}, token_from="/account/password")
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ReportJob)) == 0


def test_the_verify_button_needs_the_form_token(app, small, only_csv_and_html):
    edition = issue(small["audit"], dates.today(), small["liaison"]).issued
    db.session.commit()
    client = signed_in(app, small["liaison"])
    response = client.post(f"/summary/{small['audit'].id}/issued/{edition.id}/verify")
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ReportJob)) == 0


# ─── 판 비교 ──────────────────────────────────────────────────────────────────


def test_diff_lists_exactly_the_change_between_two_editions(app, small, only_csv_and_html):
    audit = small["audit"]
    first = issue(audit, dates.today(), small["liaison"]).issued
    due = dates.today() + timedelta(days=30)
    ops.set_due_date(small["first"], small["auditor"], due)
    second = issue(audit, dates.today(), small["liaison"]).issued
    db.session.commit()

    compared = edition_diff.compare(second, first)  # either order: older first
    assert compared.older.id == first.id and compared.newer.id == second.id
    assert len(compared.items) == 1
    item = compared.items[0]
    assert (item.number, item.kind) == (1, "changed")
    assert item.changes == (edition_diff.Change("처리 기한", "없음", due.isoformat()),)

    result = run(app, "diff", "--from", str(first.id), "--to", str(second.id))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert "제1판" in lines[0] and "제2판" in lines[0] and "요구사항 1건이 다릅니다" in lines[0]
    assert lines[1:] == [f"[건의사항 1번] 처리 기한: 없음 → {due.isoformat()}"]
    by_number = run(app, "diff", "--audit", str(audit.id), "--from", "1", "--to", "2")
    assert by_number.stdout == result.stdout

    client = signed_in(app, small["liaison"])
    page = client.get(f"/summary/{audit.id}/issued/compare?older={first.id}&newer={second.id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "처리 기한" in body and due.isoformat() in body and "건의사항 1번" in body
    assert "추진내용" not in body.split("<tbody>")[1]  # only what changed is listed
    chooser = client.get(f"/summary/{audit.id}/issued/compare")
    assert chooser.status_code == 200
    chosen = re.findall(r'<option ([^>]*selected[^>]*)>', chooser.get_data(as_text=True))
    assert [re.search(r'value="(\d+)"', option).group(1) for option in chosen] == [
        str(first.id), str(second.id)]  # the latest and the one before, offered first
    listing = client.get(f"/summary?audit={audit.id}").get_data(as_text=True)
    assert f"older={first.id}&amp;newer={second.id}" in listing  # 이전 판과 비교


def test_diff_names_added_items(app, make, small, only_csv_and_html):
    audit = small["audit"]
    first = issue(audit, dates.today(), small["liaison"]).issued
    make.recommendation(audit=audit, number=3, text="셋째 요구사항을 추가로 마련하기 바람.")
    second = issue(audit, dates.today(), small["liaison"]).issued
    db.session.commit()
    compared = edition_diff.compare(first, second)
    assert [(item.number, item.kind) for item in compared.items] == [(3, "added")]
    assert "[건의사항 3번] 추가: 셋째 요구사항" in "\n".join(compared.lines())


def test_diff_refuses_editions_of_different_audits(app, make, small, only_csv_and_html):
    other_audit = make.audit()
    make.recommendation(audit=other_audit, number=1)
    ours = issue(small["audit"], dates.today(), small["liaison"]).issued
    theirs = issue(other_audit, dates.today(), small["liaison"]).issued
    db.session.commit()
    result = run(app, "diff", "--from", str(ours.id), "--to", str(theirs.id))
    assert result.exit_code == 1
    assert "오류 [editions_of_different_audits]" in result.stderr
    client = signed_in(app, small["liaison"])
    page = client.get(f"/summary/{small['audit'].id}/issued/compare?older={ours.id}"
                      f"&newer={theirs.id}")
    assert page.status_code == 400  # not an edition of this audit to choose


def test_verification_reads_nothing_but_the_edition(app, small, only_csv_and_html):
    """The service alone: every file checked, nothing written."""
    edition = issue(small["audit"], dates.today(), small["liaison"]).issued
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(ReportJob))
    checked = verification.verify(verification.find_edition(edition.id))
    assert checked.ok and [c.format for c in checked.files] == [f.format for f in edition.files]
    assert db.session.scalar(select(func.count()).select_from(ReportJob)) == before


def test_an_edition_without_the_due_date_changes_is_made_again_as_it_was(app, small,
                                                                         only_csv_and_html):
    """The page's choice is kept on the edition: verify makes it again the same way."""
    ops.set_due_date(small["first"], small["auditor"], dates.today() + timedelta(days=9))
    ops.set_due_date(small["first"], small["auditor"], dates.today() + timedelta(days=19),
                     reason="부서 요청")
    db.session.commit()
    assert cli_issue(app, small, "--without-due-changes").exit_code == 0
    edition = only_edition()
    assert edition.include_due_changes is False
    made_again = verification.edition_report(edition)
    assert made_again.due_changes and not made_again.include_due_changes
    result = run(app, "verify", "--edition", str(edition.id))
    assert result.exit_code == 0, result.stderr
    # The choice shows in the file: with the section on, the printable report differs.
    html_file = next(file for file in edition.files if file.format == "html")
    changed = dataclasses.replace(made_again, include_due_changes=True)
    assert hashlib.sha256(rendered("html", changed)).hexdigest() != html_file.sha256
