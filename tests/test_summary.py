"""The summary engine against plain counts, as of dates, and its CLI outputs."""

from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Audit, Recommendation
from auditflow.reports.summary import summarize
from auditflow.services import recommendations as ops
from auditflow.vocabulary import Category, State

STATES = ["received", "in_progress", "reviewing", "completed", "not_reflected"]


def test_summary_equals_a_plain_count_on_generated_data(make):
    rng = random.Random(20251112)
    audit = make.audit()
    other = make.audit(year=2024)
    teams = [make.team() for _ in range(3)]
    for _ in range(40):
        make.recommendation(audit=rng.choice([audit, other]), lead=rng.choice(teams),
                            category=rng.choice(list(Category)), state=rng.choice(STATES))
    db.session.commit()
    items = db.session.scalars(select(Recommendation).where(Recommendation.audit_id == audit.id)).all()
    plain = Counter((item.category, item.state) for item in items)
    summary = summarize(audit)
    for row in summary.rows[1:]:
        for state in State:
            assert row.counts[state] == plain[(row.category.value, state.value)]
        assert row.total == sum(1 for item in items if item.category == row.category.value)
    assert summary.total.total == len(items)
    for state in State:
        assert summary.total.counts[state] == sum(row.counts[state] for row in summary.rows[1:])
    # yesterday, the history gives the same table as the current states
    history_today = summarize(audit, dates.today())
    assert [row.as_dict() for row in history_today.rows] == [row.as_dict() for row in summary.rows]


def registered_days_ago(make, audit, days: int, category=Category.SUGGESTION):
    return ops.register(audit, number=1, category=category, council_text="방안을 마련하기 바람.",
                        actor=make.user("audit"), lead_team=make.team(),
                        at=dates.at_local(dates.today() - timedelta(days=days), 9))


def test_as_of_before_and_after_a_transition(make):
    audit = make.audit()
    recommendation = registered_days_ago(make, audit, 20, Category.CORRECTIVE)
    worker = make.user("department", team=recommendation.lead_team)
    start_day = dates.today() - timedelta(days=10)
    ops.fire(recommendation, "start", worker, at=dates.at_local(start_day, 14))
    db.session.commit()

    def row(day):
        return summarize(audit, day).rows[1].counts

    before, same_day, after = row(start_day - timedelta(days=1)), row(start_day), row(start_day + timedelta(days=1))
    assert (before[State.RECEIVED], before[State.IN_PROGRESS]) == (1, 0)
    assert (same_day[State.RECEIVED], same_day[State.IN_PROGRESS]) == (0, 1)
    assert after == same_day


def test_an_item_registered_later_is_not_counted_earlier(make):
    audit = make.audit()
    make.recommendation(audit=audit)
    db.session.commit()
    assert summarize(audit, dates.today() - timedelta(days=1)).total.total == 0
    assert summarize(audit).total.total == 1


def test_end_of_day_is_in_the_bodys_time_zone(make):
    """A change at 23:30 in Seoul counts for that day, although it is 14:30 UTC."""
    audit = make.audit()
    recommendation = registered_days_ago(make, audit, 5)
    day = dates.today() - timedelta(days=3)
    ops.fire(recommendation, "start", make.user("department", team=recommendation.lead_team),
             at=dates.at_local(day, 23, 30))
    db.session.commit()
    assert summarize(audit, day).total.counts[State.IN_PROGRESS] == 1


def test_received_column_only_while_some_item_is_received(make):
    audit = make.audit()
    item = make.recommendation(audit=audit)
    assert State.RECEIVED in summarize(audit).columns
    ops.fire(item, "start", make.user("department", team=item.lead_team))
    assert State.RECEIVED not in summarize(audit).columns
    assert summarize(audit).columns == [State.COMPLETED, State.IN_PROGRESS, State.REVIEWING,
                                        State.NOT_REFLECTED]


def test_json_shape_is_exact(seeded, app):
    result = app.test_cli_runner().invoke(args=["summary", "--format", "json", "--as-of", "2026-01-31"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    audit = db.session.scalar(select(Audit))
    assert list(data) == ["audit", "as_of", "rows"]
    assert data["audit"] == {"id": audit.id, "title": "2025 행정사무감사"}
    assert data["as_of"] == "2026-01-31"
    assert [row["category"] for row in data["rows"]] == ["계", "시정·처리요구사항", "건의사항", "기타(자료제출 등)"]
    for row in data["rows"]:
        assert list(row) == ["category", "total", "received", "in_progress", "reviewing", "completed", "not_reflected"]
        assert all(isinstance(row[key], int) for key in list(row)[1:])
    assert data["rows"][0] == {"category": "계", "total": 12, "received": 0, "in_progress": 1,
                               "reviewing": 0, "completed": 11, "not_reflected": 0}


def test_default_is_the_latest_audit_and_today(seeded, app, make):
    newer = make.audit(year=2026, title="2026 행정사무감사")
    db.session.commit()
    data = json.loads(app.test_cli_runner().invoke(args=["summary", "--format", "json"]).output)
    assert data["audit"]["id"] == newer.id
    assert data["as_of"] == dates.today().isoformat()
    assert data["rows"][0]["total"] == 0


def test_text_and_csv_leave_zero_cells_blank(seeded, app):
    runner = app.test_cli_runner()
    text = runner.invoke(args=["summary", "--as-of", "2026-01-31"]).output
    assert "'26.1.31. 기준" in text
    total_line = next(line for line in text.splitlines() if line.startswith("계 "))
    assert [cell.strip() for cell in total_line.split("|")] == ["계", "12", "11", "1", "", ""]
    rows = list(csv.reader(io.StringIO(runner.invoke(args=["summary", "--as-of", "2026-01-31", "--format", "csv"]).output)))
    assert rows[0] == ["구분", "계", "완료", "추진 중", "검토 중", "미반영"]
    assert rows[1] == ["계", "12", "11", "1", "", ""]
    assert rows[4] == ["기타(자료제출 등)", "1", "1", "", "", ""]


def test_as_of_before_the_audit_shows_everything_received(seeded, app):
    rows = list(csv.reader(io.StringIO(app.test_cli_runner().invoke(
        args=["summary", "--as-of", "2025-11-11", "--format", "csv"]).output)))
    assert rows[0][-1] == "접수"
    assert rows[1] == ["계", "12", "", "", "", "", "12"]


@pytest.mark.parametrize(
    ("args", "code"),
    [(["summary", "--audit", "999"], "[audit_not_found]"), (["summary", "--as-of", "2026-13-01"], "YYYY-MM-DD")],
)
def test_cli_refusals(app, args, code):
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0
    assert code in result.output + str(getattr(result, "stderr", ""))


def test_summary_of_an_empty_database_is_refused_clearly(app):
    result = app.test_cli_runner().invoke(args=["summary"])
    assert result.exit_code == 1
    assert "[audit_not_found]" in result.output


def test_as_of_uses_the_audits_history_not_other_audits(make):
    first, second = make.audit(), make.audit(year=2024)
    make.recommendation(audit=first, state="completed")
    make.recommendation(audit=second, state="in_progress")
    db.session.commit()
    assert summarize(first, dates.today()).total.total == 1
    assert summarize(second).total.counts[State.IN_PROGRESS] == 1


def test_as_of_counts_the_category_an_item_had_then(make):
    audit = make.audit()
    auditor = make.user("audit")
    item = ops.register(audit, number=1, category=Category.SUGGESTION, council_text="방안 마련 바람.",
                        actor=auditor, lead_team=make.team(),
                        at=dates.at_local(dates.today() - timedelta(days=5), 9))
    ops.edit_text(item, auditor, council_text=item.council_text, category=Category.CORRECTIVE,
                  reason="분류 정정", at=dates.at_local(dates.today() - timedelta(days=2), 9))
    db.session.commit()
    earlier = summarize(audit, dates.today() - timedelta(days=3))
    later = summarize(audit, dates.today() - timedelta(days=1))
    by_label = {row.label: row.total for row in earlier.rows}
    assert (by_label["건의사항"], by_label["시정·처리요구사항"]) == (1, 0)
    by_label = {row.label: row.total for row in later.rows}
    assert (by_label["건의사항"], by_label["시정·처리요구사항"]) == (0, 1)
