"""부서별 현황: for each team, how many items it leads in each state, and how many are overdue.

Counting rule (shown on the page and in the XLSX sheet, see ``COUNTING_NOTE``):
an item is counted once, for its lead team (주관 부서), so the rows add up to
the summary's 계. Items a team only supports (협조) are counted in a separate
column, 협조, which is not part of 계: a supported item is already counted for
its own lead team. Items without a lead team get a row of their own (담당 미지정).

Overdue (기한 경과): the due date is before the reference date and the item is
neither completed nor declined.

As of an earlier day, state, lead team, supporting teams and due date are all
taken from the history as it stood at the end of that day
(``reports.as_of``, the same rule as the summary table), so the view
for a past date gives that date's numbers. Every number comes from a grouped
query; Python only files the grouped rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, select

from auditflow.extensions import db
from auditflow.models import Audit, OrgUnit
from auditflow.reports import memo
from auditflow.reports.as_of import snapshot
from auditflow.vocabulary import CLOSED, SUMMARY_ORDER, State, UnitKind

TOTAL_LABEL = "계"
UNASSIGNED_LABEL = "담당 미지정"
OVERDUE_LABEL = "기한 경과"
SUPPORTING_LABEL = "협조"
COUNTING_NOTE = (
    "건수는 주관 부서 기준입니다(한 건은 주관 부서에 한 번만 셉니다). "
    "협조 부서로 참여한 건수는 '협조' 열에 따로 적었으며 계에 포함하지 않습니다. "
    "기한 경과는 처리기한이 기준일 전이고 완료·미반영이 아닌 건입니다."
)


@dataclass
class TeamRow:
    team: OrgUnit | None  # None: 담당 미지정 (or the 계 row, see ``label``)
    counts: dict[State, int] = field(default_factory=lambda: dict.fromkeys(State, 0))
    overdue: int = 0
    supporting: int = 0
    is_total: bool = False

    @property
    def label(self) -> str:
        if self.is_total:
            return TOTAL_LABEL
        return self.team.name if self.team else UNASSIGNED_LABEL

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class TeamStatus:
    audit: Audit | None  # None: the open items of every audit
    as_of: date
    rows: list[TeamRow]  # teams in sort order, then 담당 미지정 when there is any
    total: TeamRow

    @property
    def open_only(self) -> bool:
        return self.audit is None

    @property
    def columns(self) -> list[State]:
        """States to show: closed ones only for one audit, 접수 only while some item is received."""
        states = [s for s in SUMMARY_ORDER if not (self.open_only and s in CLOSED)]
        return [s for s in states if s != State.RECEIVED or self.total.counts[State.RECEIVED]]

    @property
    def scope_label(self) -> str:
        return self.audit.title if self.audit else "전체 감사의 미완료 요구사항"

    def table(self) -> list[list[Any]]:
        """Header and rows (계 first, as in the summary table), counts as numbers."""
        columns = self.columns
        header = ["부서", TOTAL_LABEL, *(s.label for s in columns), OVERDUE_LABEL, SUPPORTING_LABEL]
        body = [
            [row.label, row.total, *(row.counts[s] for s in columns), row.overdue, row.supporting]
            for row in [self.total, *self.rows]
        ]
        return [header, *body]


# ─── the view ─────────────────────────────────────────────────────────────────


def team_status(audit: Audit | None, as_of: date | None = None, tz: str | None = None,
                until: datetime | None = None) -> TeamStatus:
    """부서별 현황 of one audit, or (``audit=None``) of the open items of all audits."""
    day, snap = snapshot(as_of, tz, until)
    items = snap.items
    scope = items.c.audit_id == audit.id if audit else items.c.state.not_in(
        [s.value for s in CLOSED]
    )

    def counted() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        lead = db.session.execute(
            select(
                items.c.lead_team_id,
                items.c.state,
                func.count(),
                func.sum(case((snap.overdue, 1), else_=0)),
            )
            .where(scope)
            .group_by(items.c.lead_team_id, items.c.state)
        ).all()
        supporting = db.session.execute(
            select(snap.supporting.c.team_id, func.count())
            .join(items, items.c.recommendation_id == snap.supporting.c.recommendation_id)
            .where(scope)
            .group_by(snap.supporting.c.team_id)
        ).all()
        return [tuple(row) for row in lead], [tuple(row) for row in supporting]

    # Kept while the history stands still (reports/memo.py); the day decides what is overdue.
    lead_rows, supporting_rows = memo.remembered(
        ("team status", audit.id if audit else None, day, as_of is None, tz, until), counted)

    team_ids = {team_id for team_id, *_ in lead_rows if team_id is not None}
    team_ids |= {team_id for team_id, _ in supporting_rows}
    teams = db.session.scalars(
        select(OrgUnit)
        .where(OrgUnit.id.in_(team_ids), OrgUnit.kind != UnitKind.DIVISION.value)
        .order_by(OrgUnit.sort_order, OrgUnit.name)
    ).all() if team_ids else []
    rows: dict[int | None, TeamRow] = {team.id: TeamRow(team) for team in teams}
    total = TeamRow(None, is_total=True)

    for team_id, state, count, overdue in lead_rows:
        row = rows.setdefault(team_id, TeamRow(None)) if team_id is None else rows[team_id]
        row.counts[State(state)] += count
        row.overdue += overdue or 0
        total.counts[State(state)] += count
        total.overdue += overdue or 0
    for team_id, count in supporting_rows:
        if team_id in rows:
            rows[team_id].supporting += count
            total.supporting += count

    ordered = [rows[team.id] for team in teams]
    if None in rows:
        ordered.append(rows[None])
    return TeamStatus(audit=audit, as_of=day, rows=ordered, total=total)
