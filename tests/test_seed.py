"""The seed: the work report's organisation and 2025 audit, loaded through the workflow."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Audit, History, OrgUnit, Recommendation, User
from auditflow.reports.summary import summarize
from auditflow.services.seeding import SeedRefused, load
from tests.conftest import DEMO_PASSWORD, REPO

SEED = REPO / "seed"
REFERENCE = date(2026, 1, 31)


def counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (OrgUnit, User, Audit, Recommendation, History)
    }


def test_seed_reproduces_the_reports_table(seeded):
    audit = db.session.scalar(select(Audit))
    summary = summarize(audit, REFERENCE)
    rows = {row["category"]: row for row in summary.as_dict()["rows"]}
    assert rows["계"] == {"category": "계", "total": 12, "received": 0, "in_progress": 1,
                          "reviewing": 0, "completed": 11, "not_reflected": 0}
    assert (rows["시정·처리요구사항"]["total"], rows["시정·처리요구사항"]["completed"]) == (4, 4)
    assert (rows["건의사항"]["total"], rows["건의사항"]["completed"], rows["건의사항"]["in_progress"]) == (7, 6, 1)
    assert (rows["기타(자료제출 등)"]["total"], rows["기타(자료제출 등)"]["completed"]) == (1, 1)
    # the current state agrees with the state at the reference date
    assert summarize(audit).as_dict()["rows"] == summary.as_dict()["rows"]


def test_every_state_was_reached_through_the_workflow(seeded):
    data = yaml.safe_load((SEED / "audits" / "2025.yaml").read_text(encoding="utf-8"))
    by_number = {item["number"]: item for item in data["recommendations"]}
    for recommendation in db.session.scalars(select(Recommendation)):
        rows = recommendation.history
        transitions = [row for row in rows if row.kind == "transition"]
        expected = by_number[recommendation.number]
        assert [row.trigger for row in transitions] == [step["trigger"] for step in expected["timeline"]]
        assert [dates.local(row.at).date() for row in transitions] == [step["on"] for step in expected["timeline"]]
        assert rows[0].kind == "created" and rows[0].to_state == "received"
        assert recommendation.state == expected["state"]
        assert all(row.at < dates.end_of_day(REFERENCE) for row in rows)
        assert all(row.actor_id is not None for row in rows)


def test_history_dates_follow_the_report(seeded):
    """'25.11.12. for the written submission, '26.1.1. for the audit team staffing."""
    by_text = {r.council_text: r for r in db.session.scalars(select(Recommendation))}
    submission = next(r for t, r in by_text.items() if "서면으로 제출" in t)
    staffing = next(r for t, r in by_text.items() if "감사팀의 잦은 인사이동" in t)
    approve = {r.id: [h for h in r.history if h.trigger == "approve"][0] for r in (submission, staffing)}
    assert dates.local(approve[submission.id].at).date() == date(2025, 11, 12)
    assert dates.local(approve[staffing.id].at).date() == date(2026, 1, 1)


def test_seeding_twice_changes_nothing(seeded):
    before = counts()
    versions = {r.id: r.version for r in db.session.scalars(select(Recommendation))}
    again = load(SEED, demo=True, demo_password=DEMO_PASSWORD)
    db.session.commit()
    assert not again.changed
    assert counts() == before
    assert {r.id: r.version for r in db.session.scalars(select(Recommendation))} == versions


def test_demo_users_cover_every_role_and_team(seeded):
    roles = set(db.session.scalars(select(User.role)))
    assert roles == {"admin", "audit", "department", "liaison"}
    teams_with_items = set(db.session.scalars(select(Recommendation.lead_team_id)))
    teams_with_users = set(db.session.scalars(select(User.team_id).where(User.role == "department")))
    assert teams_with_items <= teams_with_users


def _broken_copy(tmp_path: Path, change) -> Path:
    target = tmp_path / "seed"
    shutil.copytree(SEED, target)
    path = target / "audits" / "2025.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def _set(index: int, key: str, value):
    def change(data):
        data["recommendations"][index][key] = value
    return change


def _duplicate_number(data):
    data["recommendations"][3]["number"] = data["recommendations"][2]["number"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_set(0, "category", "감사의견"), "알 수 없는 분류 '감사의견'"),
        (_set(1, "state", "finished"), "알 수 없는 상태 'finished'"),
        (_set(2, "lead_team", "no-such-team"), "알 수 없는 부서 'no-such-team'"),
        (_duplicate_number, "중복된 번호"),
        (_set(4, "state", "reviewing"), "timeline이 '검토 중' 상태에 이르지 않습니다"),
    ],
    ids=["category", "state", "team", "duplicate-number", "timeline"],
)
def test_a_bad_seed_is_refused_and_writes_nothing(app_context, tmp_path, change, expected):
    directory = _broken_copy(tmp_path, change)
    with pytest.raises(SeedRefused) as refused:
        load(directory, demo=True, demo_password=DEMO_PASSWORD)
    db.session.rollback()
    problems = [str(problem) for problem in refused.value.problems]
    assert any(expected in problem and "2025.yaml" in problem and "번 요구사항" in problem
               for problem in problems), problems
    assert refused.value.code == "seed_invalid"
    assert all(value == 0 for value in counts().values())


def test_seed_cli_refusal_prints_file_item_and_code(app, app_context, tmp_path):
    directory = _broken_copy(tmp_path, _set(0, "category", "감사의견"))
    result = app.test_cli_runner(mix_stderr=False).invoke(args=["seed", "--path", str(directory)]) \
        if _supports_mix_stderr() else app.test_cli_runner().invoke(args=["seed", "--path", str(directory)])
    assert result.exit_code == 1
    output = result.output + (getattr(result, "stderr", "") or "")
    assert "[seed_invalid]" in output
    assert "2025.yaml" in output and "1번 요구사항" in output and "감사의견" in output
    assert all(value == 0 for value in counts().values())


def _supports_mix_stderr() -> bool:
    import inspect

    from click.testing import CliRunner

    return "mix_stderr" in inspect.signature(CliRunner.__init__).parameters


def test_seed_cli_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert "요구사항 12 건 추가" in first.output
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0
    assert "바뀐 것이 없습니다" in second.output


def test_a_missing_audit_team_user_is_reported_once(app_context, tmp_path):
    """However many audit files there are, the one missing user is one problem."""
    directory = _broken_copy(tmp_path, lambda data: None)
    users = yaml.safe_load((directory / "demo_users.yaml").read_text(encoding="utf-8"))
    users["users"] = [user for user in users["users"] if user["role"] != "audit"]
    (directory / "demo_users.yaml").write_text(yaml.safe_dump(users, allow_unicode=True),
                                               encoding="utf-8")
    second = yaml.safe_load((directory / "audits" / "2025.yaml").read_text(encoding="utf-8"))
    second["audit"]["title"] = "2024 행정사무감사"
    (directory / "audits" / "2024.yaml").write_text(
        yaml.safe_dump(second, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(SeedRefused) as refused:
        load(directory, demo=True, demo_password=DEMO_PASSWORD)
    db.session.rollback()
    problems = [str(problem) for problem in refused.value.problems]
    missing = [problem for problem in problems if "감사팀 사용자가 한 명 이상 필요합니다" in problem]
    assert len(missing) == 1, problems
    assert all(value == 0 for value in counts().values())


def test_a_plain_seed_makes_no_account_anyone_can_sign_in_to(app, app_context):
    from tests.auth_helpers import login, signed_in

    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "기록용 계정" in result.output and "비밀번호" not in result.output
    users = list(db.session.scalars(select(User)))
    # Only the people the history names: the audit team and the teams that did the work.
    assert users and "admin" not in {user.login for user in users}
    assert "liaison" not in {user.login for user in users}
    assert all(user.password_hash is None and not user.active for user in users)
    assert all(row.actor_id is not None for row in db.session.scalars(select(History)))
    client = app.test_client()
    for login_name in ("audit", "admin"):
        assert login(client, login_name, DEMO_PASSWORD).status_code == 200
        assert not signed_in(client)


def test_demo_after_a_plain_seed_gives_the_demo_users_their_passwords(app, app_context):
    from tests.auth_helpers import login

    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed"]).exit_code == 0
    before = counts()
    demo = runner.invoke(args=["seed", "--demo"])
    assert demo.exit_code == 0, demo.output
    assert "AUDITFLOW_DEMO_PASSWORD" in demo.output
    db.session.expire_all()
    users = {user.login: user for user in db.session.scalars(select(User))}
    entries = yaml.safe_load((SEED / "demo_users.yaml").read_text(encoding="utf-8"))["users"]
    assert set(users) == {entry["login"] for entry in entries}
    assert all(user.active and user.password_hash for user in users.values())
    assert counts()["history"] == before["history"]  # the audits were there already
    assert login(app.test_client(), "audit", DEMO_PASSWORD).status_code == 303


class TestInProduction:
    @pytest.fixture
    def app_config(self):
        return {"AUDITFLOW_ENV": "production"}

    def test_demo_users_are_refused_and_the_plain_seed_works(self, app, app_context):
        runner = app.test_cli_runner()
        refused = runner.invoke(args=["seed", "--demo"])
        assert refused.exit_code == 1
        assert "[demo_in_production]" in (refused.output + (getattr(refused, "stderr", "") or ""))
        assert all(value == 0 for value in counts().values())
        plain = runner.invoke(args=["seed"])
        assert plain.exit_code == 0, plain.output
        assert counts()["recommendation"] == 12
        assert not any(user.active for user in db.session.scalars(select(User)))
