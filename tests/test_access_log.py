"""The access log (접속기록): a record for each kind of event, the reason asked before a
session's first evidence download, the retention purge that keeps the chain verifiable, the
monthly review page and its workbook; all with CSRF on."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from auditflow import create_app
from auditflow.config import ConfigError
from auditflow.extensions import db
from auditflow.models import AccessRecord, ChainHead, Evidence, Recommendation, User
from auditflow.services import evidence as evidence_ops
from auditflow.services.issuing import issue
from tests.auth_helpers import login, logout, post_form
from tests.conftest import APP_ROLE, DEMO_PASSWORD, _config, owner_engine
from tests.test_evidence_service import make_pdf


def records(kind: str | None = None) -> list[AccessRecord]:
    db.session.expire_all()
    query = select(AccessRecord).order_by(AccessRecord.chain_seq)
    if kind is not None:
        query = query.where(AccessRecord.kind == kind)
    return list(db.session.scalars(query))


def signed_in(app, who: str):
    client = app.test_client()
    assert login(client, who, DEMO_PASSWORD).status_code == 303
    return client


def user(login_: str) -> User:
    return db.session.scalar(select(User).filter_by(login=login_))


def test_sign_in_failure_lock_and_sign_out_are_recorded(app, seeded, caplog):
    client = app.test_client()
    caplog.set_level(logging.INFO, logger="auditflow.access")
    assert login(client, "audit", "wrong-password").status_code == 200
    [failed] = records("sign_in_failed")
    assert (failed.login, failed.result, failed.detail) == ("audit", "failure", "bad_password")
    assert failed.remote_addr == "127.0.0.1"
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        login(client, "audit", "wrong-password")
    [locked] = records("account_locked")
    assert locked.user_id == user("audit").id and locked.result == "failure"
    client = signed_in(app, "liaison")
    [ok] = records("sign_in")
    assert (ok.login, ok.result) == ("liaison", "success")
    logout(client)
    [out] = records("sign_out")
    assert out.user_id == user("liaison").id
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "auditflow.access"]
    assert {line["event"] for line in lines} >= {"sign_in_failed", "account_locked", "sign_in",
                                                 "sign_out"}
    assert all("wrong-password" not in json.dumps(line) for line in lines)  # never the password


def test_user_administration_is_recorded(app, seeded):
    admin = signed_in(app, "admin")
    response = post_form(admin, "/admin/users/new", {
        "login": "newcomer", "name": "새 사용자", "role": "liaison", "team": "",
        "password": "Arrival-maple-2025!", "password_confirm": "Arrival-maple-2025!"})
    assert response.status_code == 303
    [created] = records("user_created")
    assert created.user_id == user("admin").id and created.target == "user newcomer"
    newcomer = user("newcomer")
    assert post_form(admin, f"/admin/users/{newcomer.id}/edit",
                     {"name": "새 사용자", "role": "audit", "team": ""}).status_code == 303
    [changed] = records("role_changed")
    assert changed.detail == "liaison → audit"
    assert post_form(admin, f"/admin/users/{newcomer.id}/password", {
        "password": "Another-pass-2025!", "password_confirm": "Another-pass-2025!"}
    ).status_code == 303
    [reset] = records("password_changed")
    assert reset.target == "user newcomer" and reset.user_id == user("admin").id
    assert post_form(admin, f"/admin/users/{newcomer.id}/active", {"confirm": "y"}
                     ).status_code == 303
    [off] = records("user_deactivated")
    assert off.target == "user newcomer"


def test_own_password_change_is_recorded(app, seeded):
    client = signed_in(app, "liaison")
    response = post_form(client, "/account/password", {
        "current_password": DEMO_PASSWORD, "new_password": "Changed-pass-2026!",
        "new_password_confirm": "Changed-pass-2026!"})
    assert response.status_code == 303
    [changed] = records("password_changed")
    assert changed.user_id == user("liaison").id and changed.target == "user liaison"


def test_tokens_made_and_revoked_are_recorded(app, seeded):
    client = signed_in(app, "liaison")
    assert post_form(client, "/account/tokens", {"name": "집계", "scope": "read",
                                                 "days": "30"}).status_code in (200, 303)
    [made] = records("token_created")
    assert made.user_id == user("liaison").id and made.detail == "scope read"
    from auditflow.models import ApiToken

    token = db.session.scalar(select(ApiToken))
    assert post_form(client, f"/account/tokens/{token.id}/revoke", {},
                     token_from="/account/tokens").status_code == 303
    [revoked] = records("token_revoked")
    assert revoked.target == made.target


def test_a_refusal_is_kept_although_the_request_rolls_back(app, seeded):
    client = signed_in(app, "audit")
    assert client.get("/admin/users").status_code == 403
    [refused] = records("permission_refused")
    assert (refused.user_id, refused.target, refused.result) == (
        user("audit").id, "GET /admin/users", "failure")


@pytest.fixture
def evidence(seeded, app_context) -> Evidence:
    rec = db.session.scalar(select(Recommendation).where(Recommendation.state == "in_progress"))
    worker = db.session.scalar(select(User).where(User.team_id == rec.lead_team_id,
                                                  User.role == "department"))
    stored = evidence_ops.upload(rec, worker, io.BytesIO(make_pdf()), "결과 보고.pdf")
    db.session.commit()
    return stored


def test_the_first_evidence_download_of_a_session_asks_its_reason(app, evidence):
    client = signed_in(app, "audit")
    url = f"/evidence/{evidence.id}/download"
    item_page = f"/recommendations/{evidence.recommendation_id}"
    reason_link = f'href="/evidence/{evidence.id}/reason" class="evidence-download">'
    # The item's link opens the reason's page (not a download, which would save that page).
    assert reason_link in client.get(item_page).get_data(as_text=True)
    first = client.get(url)
    assert first.status_code == 303 and first.headers["Location"].endswith(
        f"/evidence/{evidence.id}/reason")
    assert records("evidence_download") == []
    page = client.get(f"/evidence/{evidence.id}/reason").get_data(as_text=True)
    assert "내려받는 사유" in page and "제8조" in page
    # Without the form's token nothing is kept.
    assert client.post(f"/evidence/{evidence.id}/reason",
                       data={"reason": "검토"}).status_code == 400
    empty = post_form(client, f"/evidence/{evidence.id}/reason", {"reason": "  "})
    assert empty.status_code == 200 and "사유를 입력하세요" in empty.get_data(as_text=True)
    given = post_form(client, f"/evidence/{evidence.id}/reason", {"reason": "처리결과 검토"})
    assert given.status_code == 303 and given.headers["Location"].endswith(url)
    download = client.get(url)
    assert download.status_code == 200 and download.data == make_pdf()
    page_after = client.get(item_page).get_data(as_text=True)
    assert reason_link not in page_after and f'href="{url}" class="evidence-download" download>' in page_after
    assert client.get(url).status_code == 200  # asked once per session
    rows = records("evidence_download")
    assert len(rows) == 2 and {row.reason for row in rows} == {"처리결과 검토"}
    assert rows[0].target.startswith(f"evidence {evidence.id} 결과 보고.pdf")
    logout(client)
    again = signed_in(app, "audit")
    assert again.get(url).status_code == 303  # a new session asks again


def test_report_downloads_and_exports_are_recorded(app, seeded, render_once):
    client = signed_in(app, "liaison")
    audit_id = db.session.scalar(select(Recommendation.audit_id).limit(1))
    assert client.get(f"/summary/{audit_id}/report.csv?as_of=2026-01-31").status_code == 200
    [report] = records("report_download")
    assert report.target == f"audit {audit_id} report.csv as of 2026-01-31"
    assert client.get("/recommendations/export.xlsx").status_code == 200
    [export] = records("export")
    assert export.target.startswith("item list xlsx")
    from auditflow.models import Audit

    issued = issue(db.session.get(Audit, audit_id), datetime(2026, 1, 31).date(),
                   user("liaison")).issued
    db.session.commit()
    fmt = issued.files[0].format
    assert client.get(f"/summary/{audit_id}/issued/{issued.id}/{fmt}").status_code == 200
    assert records("report_download")[-1].target == f"issued {issued.id} {issued.files[0].file_name}"


def make_records(app, moments: list[datetime]) -> None:
    for number, moment in enumerate(moments):
        db.session.add(AccessRecord(at=moment, login=f"person{number}", kind="sign_in",
                                    result="success"))
        db.session.flush()
    db.session.commit()


def purge_as_owner(app, tmp_path, today: str):
    """The purge runs as the tables' owner (on PostgreSQL the application's role may not)."""
    import contextvars

    owner_app = create_app(_config(owner_engine().url.render_as_string(hide_password=False),
                                   tmp_path))
    result = contextvars.Context().run(lambda: owner_app.test_cli_runner().invoke(
        args=["access", "purge", "--today", today]))
    with owner_app.app_context():
        db.engine.dispose()
    return result


def test_purge_keeps_the_chain_verifiable(app, app_context, tmp_path):
    now = datetime(2026, 12, 1, tzinfo=UTC)
    make_records(app, [now - timedelta(days=800), now - timedelta(days=740),
                       now - timedelta(days=700), now - timedelta(days=10)])
    result = purge_as_owner(app, tmp_path, "2026-12-01")
    assert result.exit_code == 0, result.output
    assert "2건 삭제, 2건 보관" in result.output
    kept = records()
    assert [row.login for row in kept] == ["person2", "person3"]
    head = db.session.get(ChainHead, "access_log")
    assert head.start_seq == 2
    verify = app.test_cli_runner().invoke(args=["integrity", "verify"])
    assert verify.exit_code == 0, verify.output
    assert "access_log: 2" in verify.output
    again = purge_as_owner(app, tmp_path, "2026-12-01")
    assert "0건 삭제" in again.output


def test_purge_stops_at_the_first_record_still_kept(app, app_context, tmp_path):
    now = datetime(2026, 12, 1, tzinfo=UTC)
    # A clock that went back: an old moment after a recent one is kept with it.
    make_records(app, [now - timedelta(days=800), now - timedelta(days=5),
                       now - timedelta(days=900)])
    assert purge_as_owner(app, tmp_path, "2026-12-01").exit_code == 0
    assert [row.login for row in records()] == ["person1", "person2"]


def test_purge_refuses_a_broken_chain(app, app_context, tmp_path, backend):
    now = datetime(2026, 12, 1, tzinfo=UTC)
    make_records(app, [now - timedelta(days=800), now - timedelta(days=10)])
    with owner_engine().begin() as connection:
        if backend.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            connection.exec_driver_sql("DROP TRIGGER access_log_no_update")
        connection.exec_driver_sql("UPDATE access_log SET login = 'someone' WHERE chain_seq = 2")
    result = purge_as_owner(app, tmp_path, "2026-12-01")
    assert result.exit_code == 1 and "chain_broken" in result.output
    assert len(records()) == 2
    verify = app.test_cli_runner().invoke(args=["integrity", "verify"])
    assert verify.exit_code == 1 and "access_log id" in verify.output


def test_retention_is_at_least_a_year(tmp_path):
    with pytest.raises(ConfigError, match="ACCESS_LOG_RETENTION_DAYS"):
        create_app(_config("sqlite://", tmp_path, ACCESS_LOG_RETENTION_DAYS=200))
    assert create_app(_config("sqlite://", tmp_path)).config["ACCESS_LOG_RETENTION_DAYS"] == 730


def test_the_monthly_review_and_its_workbook_flag_unusual_volumes(app, seeded):
    moment = datetime(2026, 11, 10, 3, tzinfo=UTC)
    for number in range(25):
        db.session.add(AccessRecord(at=moment + timedelta(minutes=number), login="audit",
                                    user=user("audit"), kind="evidence_download",
                                    target=f"evidence {number}", result="success",
                                    reason="=HYPERLINK(\"http://x\")"))
        db.session.flush()
    for who in ("liaison", "management", "plaza-tf", "ai-companion", "admin"):
        db.session.add(AccessRecord(at=moment, login=who, kind="report_download",
                                    result="success"))
        db.session.flush()
    db.session.commit()
    admin = signed_in(app, "admin")
    response = admin.get("/admin/access?month=2026-11")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "2026년 11월" in page and "확인 필요" in page
    assert page.count("evidence ") >= 25
    workbook = admin.get("/admin/access/export.xlsx?month=2026-11")
    assert workbook.status_code == 200
    book = load_workbook(io.BytesIO(workbook.data))
    people = book["사용자별"]
    rows = {people.cell(row, 1).value: [people.cell(row, col).value for col in range(1, 7)]
            for row in range(3, people.max_row + 1)}
    assert rows["audit"][3] == 25 and rows["audit"][5] == "확인 필요"
    assert rows["liaison"][5] in (None, "")
    every = book["접속기록"]
    reasons = [every.cell(row, 8).value for row in range(3, every.max_row + 1)]
    assert "=HYPERLINK(\"http://x\")" in reasons
    assert all(every.cell(row, 8).data_type != "f" for row in range(3, every.max_row + 1))
    assert records("export")[-1].target.startswith("access log 2026-11 xlsx")
    for who in ("audit", "liaison"):
        other = signed_in(app, who)
        assert other.get("/admin/access").status_code == 403
        assert other.get("/admin/access/export.xlsx").status_code == 403


def test_access_records_are_chained_and_append_only(app, seeded):
    login(app.test_client(), "audit", "wrong-password")
    [row] = records("sign_in_failed")
    assert row.chain_seq == db.session.get(ChainHead, "access_log").length
    count = db.session.scalar(select(func.count()).select_from(AccessRecord))
    with pytest.raises(Exception, match="never changed|permission denied"), \
            db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE access_log SET login = 'x'")
    assert db.session.scalar(select(func.count()).select_from(AccessRecord)) == count


def test_the_migrated_access_log_is_append_only_and_purgeable(backend, tmp_path):
    import flask_migrate
    from sqlalchemy import text

    url = backend.new_database(schema=False)
    migrated = create_app(_config(url, tmp_path))
    with migrated.app_context():
        flask_migrate.upgrade()
        make_records(migrated, [datetime(2024, 1, 1, tzinfo=UTC), datetime.now(UTC)])
        db.session.remove()
        for statement in ("UPDATE access_log SET login = 'x'", "DELETE FROM access_log"):
            with pytest.raises(Exception, match="never changed"), db.engine.begin() as connection:
                connection.execute(text(statement))
        result = migrated.test_cli_runner().invoke(args=["access", "purge"])
        assert result.exit_code == 0 and "1건 삭제, 1건 보관" in result.output
        with pytest.raises(Exception, match="never changed"), db.engine.begin() as connection:
            connection.execute(text("DELETE FROM access_log"))  # the trigger is back
        assert migrated.test_cli_runner().invoke(args=["integrity", "verify"]).exit_code == 0
        db.session.remove()
        db.engine.dispose()


# Only where the suite runs as the application's role (PostgreSQL, as CI does): SQLite has no
# roles, and there the application is the owner, as the other tests show.
if APP_ROLE is not None:
    @pytest.mark.parametrize("backend", ["postgresql"], indirect=True, scope="session")
    def test_the_application_role_cannot_purge(app, app_context, backend):
        """PostgreSQL under AUDITFLOW_TEST_APP_ROLE (as CI runs): the purge is the owner's."""
        assert owner_engine() is not db.engine
        now = datetime(2026, 12, 1, tzinfo=UTC)
        make_records(app, [now - timedelta(days=800), now - timedelta(days=10)])
        result = app.test_cli_runner().invoke(args=["access", "purge", "--today", "2026-12-01"])
        assert result.exit_code == 1 and "not_table_owner" in result.output
        assert len(records()) == 2


def test_users_and_tokens_made_from_the_command_line_are_recorded(app, seeded):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["user", "create", "--login", "clerk", "--name", "서기",
                               "--role", "liaison"],
                         env={"AUDITFLOW_NEW_USER_PASSWORD": "Cli-pass-2025!"})
    assert made.exit_code == 0, made.output
    [created] = records("user_created")
    assert (created.login, created.target, created.user_id) == ("cli", "user clerk", None)
    token = runner.invoke(args=["token", "create", "--login", "clerk"])
    assert token.exit_code == 0, token.output
    [issued] = records("token_created")
    assert issued.user_id == user("clerk").id and issued.remote_addr is None
