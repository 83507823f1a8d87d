"""Answers over many items are kept while the history stands still (reports/memo.py), and
computed again as soon as anything changes."""

from __future__ import annotations

from datetime import date, timedelta

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import User
from auditflow.reports import item_search, memo
from auditflow.reports.summary import summarize
from auditflow.services import recommendations as ops
from auditflow.vocabulary import State
from tests.sql_helpers import recorded


def _counts(summary) -> dict[State, int]:
    return dict(summary.total.counts)


def test_the_summary_is_read_once_while_the_history_stands_still(make):
    audit = make.audit()
    team = make.team()
    first = make.recommendation(audit=audit, lead=team)
    make.recommendation(audit=audit, lead=team, state="in_progress")
    db.session.commit()
    yesterday = dates.today() - timedelta(days=1)
    assert _counts(summarize(audit)) [State.RECEIVED] == 1
    with recorded() as seen:
        again = summarize(audit)
        summarize(audit, as_of=yesterday)
        summarize(audit, as_of=yesterday)
    assert _counts(again)[State.RECEIVED] == 1
    grouped = [st.sql for st in seen if "GROUP BY" in st.sql]
    assert len(grouped) == 1, grouped  # the day before, once; today's counts were kept

    worker = make.user("department", team=team)
    ops.fire(first, "start", worker)  # the history moves: the counts are read again
    db.session.commit()
    now = _counts(summarize(audit))
    assert now[State.RECEIVED] == 0 and now[State.IN_PROGRESS] == 2


def test_the_list_total_follows_every_change(make):
    audit = make.audit()
    team, other = make.team(), make.team()
    auditor = make.user("audit")
    worker = make.user("department", team=other)
    items = [make.recommendation(audit=audit, lead=team) for _ in range(3)]
    db.session.commit()

    def total(user: User, **filters) -> int | None:
        return item_search.search(user, item_search.Filters(audit_id=audit.id, **filters)).total

    assert total(auditor) == 3 and total(worker) == 0
    with recorded() as seen:
        assert total(auditor) == 3
    assert not [st.sql for st in seen if "count(" in st.sql.lower()]  # kept

    ops.assign(items[0], auditor, lead_team=other)  # teams change: the other team sees it
    db.session.commit()
    assert total(worker) == 1 and total(auditor, team_id=team.id) == 2
    make.recommendation(audit=audit, lead=other)  # a new item
    db.session.commit()
    assert total(auditor) == 4 and total(worker) == 2
    ops.set_due_date(items[1], auditor, date(2000, 1, 1))  # overdue from now on
    db.session.commit()
    assert total(auditor, overdue=True) == 1
    ops.fire(items[2], "start", make.user("department", team=team))
    db.session.commit()
    assert total(auditor, state=State.IN_PROGRESS.value) == 1


def test_nothing_is_kept_without_a_history_chain(make):
    audit = make.audit()  # no item yet: no history, no chain head
    db.session.commit()
    assert memo.history_head() is None
    calls = []
    assert memo.remembered("x", lambda: calls.append(1) or len(calls)) == 1
    assert memo.remembered("x", lambda: calls.append(1) or len(calls)) == 2
    make.recommendation(audit=audit)
    db.session.commit()
    assert memo.history_head() is not None
    assert memo.remembered("x", lambda: 10) == 10
    assert memo.remembered("x", lambda: 20) == 10  # kept under this head


def test_the_oldest_answers_go_first(monkeypatch, make):
    make.recommendation()
    db.session.commit()
    monkeypatch.setattr(memo, "SIZE", 2)
    for key in ("a", "b", "c"):
        memo.remembered(key, lambda key=key: key)
    assert memo.remembered("a", lambda: "again") == "again"  # "a" was dropped
    assert memo.remembered("c", lambda: "again") == "c"


def test_the_summary_page_items_follow_edits_and_team_names(make):
    from auditflow.models import OrgUnit
    from auditflow.reports.content import Slice, item_slice
    from auditflow.vocabulary import Category

    audit = make.audit()
    team = make.team()
    rec = make.recommendation(audit=audit, lead=team, category=Category.SUGGESTION,
                              state="in_progress")
    db.session.commit()
    part = Slice(Category.SUGGESTION, limit=20)
    first = item_slice(audit, None, part)
    assert [item.action_details for item in first] == ["ㅇ 조치 완료"]
    with recorded() as seen:
        assert item_slice(audit, None, part) == first
    assert not [st.sql for st in seen if "FROM recommendation" in st.sql]  # kept

    ops.edit_result(rec, make.user("department", team=team), action_details="ㅇ 새로 고친 내용",
                    future_plan=None)
    db.session.commit()
    assert [item.action_details for item in item_slice(audit, None, part)] == ["ㅇ 새로 고친 내용"]
    db.session.get(OrgUnit, team.id).name = "이름을바꾼팀"  # no history: the names are in the key
    db.session.commit()
    assert [item.lead_team for item in item_slice(audit, None, part)] == ["이름을바꾼팀"]


def test_only_the_latest_heads_answers_are_kept(make, monkeypatch):
    audit = make.audit()
    make.recommendation(audit=audit)
    db.session.commit()
    for key in ("a", "b"):
        memo.remembered(key, lambda key=key: key)
    assert len(memo._answers) == 2
    earlier = memo.history_head()
    make.recommendation(audit=audit)  # the head moves on
    db.session.commit()
    assert memo.remembered("a", lambda: "new") == "new"
    assert list(memo._answers) == ["a"]  # the old head's answers went with it
    # a transaction that still sees the earlier head computes, keeps nothing, drops nothing
    monkeypatch.setattr(memo, "history_head", lambda: earlier)
    assert memo.remembered("c", lambda: "from before") == "from before"
    assert memo.remembered("c", lambda: "again") == "again"
    assert list(memo._answers) == ["a"]


def test_team_status_and_open_items_follow_every_change(make):
    from auditflow.reports.open_items import open_items
    from auditflow.reports.teams import team_status

    audit = make.audit()
    team, other = make.team(), make.team()
    auditor = make.user("audit")
    item = make.recommendation(audit=audit, lead=team, state="in_progress")
    db.session.commit()

    def leads() -> dict[str, int]:
        return {row.team.name: row.total for row in team_status(audit).rows if row.team}

    assert leads() == {team.name: 1} and open_items().total == 1
    assert open_items(overdue_only=True).total == 0
    with recorded() as seen:
        assert leads() == {team.name: 1} and open_items().total == 1
    assert not [st.sql for st in seen
                if "GROUP BY" in st.sql or "count(" in st.sql.lower()]  # kept
    ops.assign(item, auditor, lead_team=other)
    ops.set_due_date(item, auditor, date(2000, 1, 1))
    db.session.commit()
    assert leads() == {other.name: 1}
    assert open_items(overdue_only=True).total == 1 and open_items(team_id=other.id).total == 1
