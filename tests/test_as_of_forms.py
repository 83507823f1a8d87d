"""The one as-of rule in its two SQL forms: correlated subqueries (SQLite's best) and a
window function (PostgreSQL's best) give the same answers, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from auditflow.extensions import db
from auditflow.models import Audit, OrgUnit, Recommendation, User
from auditflow.reports import as_of
from auditflow.reports.content import build_report, to_text
from auditflow.reports.summary import summarize
from auditflow.reports.teams import team_status
from auditflow.services import recommendations as ops
from auditflow.vocabulary import Category

DAYS = [date(2025, 11, 10), date(2025, 11, 20), date(2025, 12, 5), date(2025, 12, 20),
        date(2026, 1, 10), date(2026, 1, 31)]


def _answers(audit: Audit, day: date) -> tuple:
    report = build_report(audit, day)
    items = [(i.number, i.category, i.state, i.lead_team, i.supporting_teams, i.due_date,
              i.action_details, i.future_plan, i.council_text) for i in report.items]
    teams = team_status(audit, day)
    return (summarize(audit, day).as_dict(), items, to_text(report), repr(teams))


@pytest.fixture
def moved(seeded):
    """The seed, with later moves: an item to another category and team, a due date."""
    audit = db.session.scalar(select(Audit).filter_by(year=2025))
    auditor = db.session.scalar(select(User).filter_by(login="audit"))
    item = db.session.scalar(select(Recommendation).filter_by(audit_id=audit.id, number=5))
    teams = db.session.scalars(select(OrgUnit).where(OrgUnit.kind == "team")
                               .order_by(OrgUnit.id)).all()
    at = datetime(2025, 12, 10, 3, tzinfo=UTC)
    ops.edit_text(item, auditor, council_text="옮긴 뒤의 내용", category=Category.OTHER,
                  reason="구분 정정", at=at)
    ops.assign(item, auditor, lead_team=teams[0], supporting_teams=[teams[1], teams[2]],
               reason="담당 조정", at=at + timedelta(hours=1))
    ops.set_due_date(item, auditor, date(2026, 3, 31), reason="일정 조정", at=at + timedelta(hours=2))
    db.session.commit()
    return audit


def test_both_forms_give_the_same_past(moved, monkeypatch):
    answers = {}
    for form in (as_of.CORRELATED, as_of.RANKED):
        monkeypatch.setitem(as_of.BEST_FORM, db.engine.dialect.name, form)
        answers[form] = [_answers(moved, day) for day in DAYS]
    assert answers[as_of.CORRELATED] == answers[as_of.RANKED]
    counts = [day[0]["rows"][0]["total"] for day in answers[as_of.RANKED]]
    assert counts[0] < counts[-1]  # the days differ, so the equality says something
    texts = {day[2] for day in answers[as_of.RANKED]}
    assert len(texts) > 2


@pytest.mark.parametrize("field", list(as_of.field_rows()))
def test_each_field_the_same_in_both_forms(moved, field):
    for day in DAYS:
        found = {}
        for form in (as_of.CORRELATED, as_of.RANKED):
            sub = as_of.latest(field, day, Recommendation.audit_id == moved.id, form=form)
            found[form] = sorted(db.session.execute(select(sub.c.recommendation_id, sub.c.value)))
        assert found[as_of.CORRELATED] == found[as_of.RANKED], (field, day)
    assert found[as_of.RANKED]  # the last day has a value for every field but maybe none


def test_each_database_uses_its_best_form():
    assert as_of.BEST_FORM == {"sqlite": as_of.CORRELATED, "postgresql": as_of.RANKED}
