"""The council report's content (행정사무감사 처리결과), as of a reference date.

Every writer (HTML/PDF, HWPX, XLSX, CSV, the summary page) renders a ``Report``
built here, so they cannot disagree with one another or with the 총괄 table.

As of a day, each item is taken as its history stood at the end of that day
(``dates.end_of_day``): the state is the ``to_state`` of the latest state row,
every other field the ``new_value`` of its latest row (see the history table in
docs/architecture.md); items registered later are absent. Without a date (or
for today and later, as the summary engine does) the current values are used.
Loading is a fixed number of queries whatever the number of items.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Audit, Evidence, History, OrgUnit, Recommendation
from auditflow.outline import OutlineLine, parse, plain
from auditflow.reports import as_of as as_of_rule
from auditflow.reports import memo, summary_formats
from auditflow.reports.as_of import reference_day
from auditflow.reports.due_dates import DueHistory, due_histories
from auditflow.reports.summary import Summary, summarize
from auditflow.reports.teams import TeamStatus, team_status
from auditflow.vocabulary import Category, HistoryKind, State

# Report order of the categories: the order the enum declares them.
CATEGORY_ORDER = tuple(Category)

# The two column headers of each category's table, as the document writes them.
_COLUMN_HEADERS = {
    Category.CORRECTIVE: ("시정 및 처리 요구사항", "조치결과 및 향후추진계획"),
    Category.SUGGESTION: ("건의 사항", "조치 결과"),
    Category.OTHER: ("자료제출 등 기타사항", "조치 결과"),
}

COUNCIL_MARKER = "ㅇ"
OVERVIEW_HEADING = "□ 총  괄"
ITEMS_LINE_LABEL = "ㅇ 수감결과 처리요구사항 등"
TABLE_LINE_LABEL = "ㅇ 조치내역"
STATUS_HEADING = "□ 추진상황"
DETAILS_HEADING = "□ 추진내용"
PLAN_HEADING = "□ 향후계획"
DECLINE_HEADING = "□ 미반영 사유"
NOT_WRITTEN = "작성 전"  # "□ 추진내용 : 작성 전": nothing written by the report's day
NOT_RECORDED = "기록 없음"  # a 미반영 item whose decline left no reason (none the workflow makes)
LEADER_DOTS = "·" * 20  # the dotted leader between "처리요구사항 등" and "총 N건"

CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "hwpx": "application/hwp+zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@dataclass(frozen=True)
class ResultBlock:
    """One part of the right cell: its "□" heading, then its outline (maybe none)."""

    heading: str
    lines: tuple[OutlineLine, ...] = ()


@dataclass(frozen=True)
class ReportItem:
    id: int
    number: int
    category: Category
    council_text: str
    state: State
    lead_team: str | None
    supporting_teams: tuple[str, ...]
    due_date: date | None
    action_details: str
    future_plan: str | None
    evidence_count: int
    # 미반영 사유: the reason of the decline that closed the item (its history row); only
    # for an item that is 미반영 on the report's day.
    decline_reason: str | None = None

    @property
    def council_line(self) -> str:
        """The left cell: "ㅇ" and the council's text."""
        return f"{COUNCIL_MARKER} {self.council_text}"

    @property
    def status_line(self) -> str:
        """"□ 추진상황 : 추진완료" (추진중, 검토중, 미반영, 접수)."""
        return f"{STATUS_HEADING} : {self.state.report_label}"

    @property
    def details_outline(self) -> list[OutlineLine]:
        return parse(self.action_details)

    @property
    def plan_outline(self) -> list[OutlineLine]:
        return parse(self.future_plan)

    @property
    def has_plan(self) -> bool:
        return bool(self.plan_outline)

    @property
    def details_written(self) -> bool:
        return bool(self.details_outline)

    @property
    def details_heading(self) -> str:
        """"□ 추진내용", or "□ 추진내용 : 작성 전" when nothing is written yet."""
        return DETAILS_HEADING if self.details_written else f"{DETAILS_HEADING} : {NOT_WRITTEN}"

    @property
    def declined(self) -> bool:
        return self.state is State.NOT_REFLECTED

    @property
    def decline_outline(self) -> list[OutlineLine]:
        return parse(self.decline_reason) if self.declined else []

    @property
    def decline_heading(self) -> str:
        """"□ 미반영 사유" (its reason below it)."""
        return DECLINE_HEADING if self.decline_outline else f"{DECLINE_HEADING} : {NOT_RECORDED}"

    @property
    def teams_label(self) -> str:
        """"주관팀 (협조: 가팀, 나팀)" for tables that show the teams in one cell."""
        lead = self.lead_team or ""
        if self.supporting_teams:
            support = ", ".join(self.supporting_teams)
            return f"{lead} (협조: {support})" if lead else f"(협조: {support})"
        return lead

    def blocks(self) -> tuple[ResultBlock, ...]:
        """The right cell, as every format prints it: 추진상황; for a 미반영 item its 미반영
        사유; 추진내용 (or "작성 전"); 향후계획 if there is one."""
        blocks = [ResultBlock(self.status_line)]
        if self.declined:
            blocks.append(ResultBlock(self.decline_heading, tuple(self.decline_outline)))
        blocks.append(ResultBlock(self.details_heading, tuple(self.details_outline)))
        if self.has_plan:
            blocks.append(ResultBlock(PLAN_HEADING, tuple(self.plan_outline)))
        return tuple(blocks)

    def result_lines(self) -> list[str]:
        """The right cell as plain lines: each block's heading, then its outline."""
        return [line for block in self.blocks() for line in (block.heading, *plain(list(block.lines)))]

    # The cells of the spreadsheets (XLSX, CSV), in the same words.

    @property
    def details_cell(self) -> str:
        """추진내용 in one cell as the report prints its lines, or "작성 전"."""
        return "\n".join(plain(self.details_outline)) if self.details_written else NOT_WRITTEN

    @property
    def details_as_written(self) -> str:
        """추진내용 as typed (indentation and all), or "작성 전"."""
        return self.action_details if self.details_written else NOT_WRITTEN

    @property
    def decline_cell(self) -> str:
        """The 미반영 사유 of a 미반영 item as recorded, else blank."""
        if not self.declined:
            return ""
        return (self.decline_reason or "").strip() or NOT_RECORDED

    def text(self) -> str:
        """The item as the document prints it: left cell, then right cell."""
        return "\n".join([self.council_line, *self.result_lines()])


@dataclass(frozen=True)
class ReportSection:
    category: Category
    heading: str  # Category.heading: "시정·처리 요구사항", "건의 사항", "기타 사항"
    items: tuple[ReportItem, ...]

    @property
    def left_header(self) -> str:
        return _COLUMN_HEADERS[self.category][0]

    @property
    def right_header(self) -> str:
        return _COLUMN_HEADERS[self.category][1]


@dataclass(frozen=True)
class Report:
    audit: Audit
    as_of: date
    title: str  # "{year} 행정사무감사 처리결과"
    organisation: str
    summary: Summary
    sections: tuple[ReportSection, ...]  # only categories with items, in report order
    teams: TeamStatus  # 부서별 현황 of this audit
    carried_over: TeamStatus  # the open items of every audit, by team
    # 기한 변경 내역: the items whose due date moved, with every change (by the day).
    due_changes: tuple[DueChangeItem, ...] = ()
    include_due_changes: bool = True  # the printable report and the PDF show them
    # The day an edition is issued (발행일); None for a report that is not issued. The files
    # date themselves by it (else by the reference date), never by the moment of writing.
    issued_on: date | None = None

    @property
    def items(self) -> tuple[ReportItem, ...]:
        return tuple(item for section in self.sections for item in section.items)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def document_day(self) -> date:
        """The day every file of the report is dated by: its day of issue, else the
        reference date (never the moment the file is written)."""
        return self.issued_on or self.as_of

    @property
    def reference_label(self) -> str:
        """"'26.1.31. 기준": shown by every output."""
        return f"{dates.short(self.as_of)} 기준"

    @property
    def items_line(self) -> str:
        """"ㅇ 수감결과 처리요구사항 등 ····· 총 N건" (N from the summary engine)."""
        return f"{ITEMS_LINE_LABEL} {LEADER_DOTS} 총 {self.summary.total.total}건"

    def table(self) -> list[list[str]]:
        """The 조치내역 table: header row, then 계 and one row per category (zeros blank)."""
        return summary_formats.table(self.summary)

    def file_name(self, fmt: str) -> str:
        """"2025 행정사무감사 처리결과('26.1.31. 기준).pdf"."""
        return f"{self.title}({self.reference_label}).{fmt}"


def report_title(audit: Audit) -> str:
    return f"{audit.year} 행정사무감사 처리결과"


@dataclass(frozen=True)
class DueChangeItem:
    """One item of the 기한 변경 내역: which item, and its due-date story."""

    number: int
    category: Category
    council_text: str
    story: DueHistory


def build_report(audit: Audit, as_of: date | None = None, *,
                 include_due_changes: bool = True, issued_on: date | None = None,
                 until: datetime | None = None) -> Report:
    """Everything every writer shows, loaded in a fixed number of queries; writers only render.

    ``until``: the history as it stood at that moment (an edition's moment of issue), if
    earlier than the end of the reference day; read from the history even for today."""
    day, current = reference_day(as_of, until=until)
    items = _items_now(audit) if current else _items_as_of(audit, day, until)
    stories = due_histories([item.id for item in items],
                            until=None if current else as_of_rule.cutoff(day, until=until))
    due_changes = tuple(
        DueChangeItem(item.number, item.category, item.council_text, stories[item.id])
        for item in sorted(items, key=lambda i: (CATEGORY_ORDER.index(i.category), i.number))
        if item.id in stories and stories[item.id].count
    )
    by_category: dict[Category, list[ReportItem]] = defaultdict(list)
    for item in items:
        by_category[item.category].append(item)
    sections = tuple(
        ReportSection(
            category=category,
            heading=category.heading,
            items=tuple(sorted(by_category[category], key=lambda item: item.number)),
        )
        for category in CATEGORY_ORDER
        if by_category[category]
    )
    return Report(
        audit=audit,
        as_of=day,
        title=report_title(audit),
        organisation=audit.organisation,
        summary=summarize(audit, as_of, until=until),
        sections=sections,
        teams=team_status(audit, as_of, until=until),
        carried_over=team_status(None, as_of, until=until),
        due_changes=due_changes,
        include_due_changes=include_due_changes,
        issued_on=issued_on,
    )


# --- loading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slice:
    """Some items of a category in number order: those after ``after`` (or before
    ``before``, counted back from it), at most ``limit``; the summary page's pages."""

    category: Category
    limit: int
    after: int | None = None
    before: int | None = None

    def conditions(self, category: Any, number: Any) -> list[Any]:
        found = [category == self.category.value]
        if self.after is not None:
            found.append(number > self.after)
        if self.before is not None:
            found.append(number < self.before)
        return found

    def order(self, number: Any) -> Any:
        return number.desc() if self.before is not None and self.after is None else number


def item_slice(audit: Audit, as_of: date | None, part: Slice) -> list[ReportItem]:
    """The items of ``part`` as the report shows them (a fixed number of queries).

    As of a day, the slice's items are found first, walking the audit's items in number
    order and asking each its category then (one correlated lookup per item walked, and
    the walk stops at ``part.limit``); then only those items are loaded, field by field.
    Kept while the history and the units' names stand still (``reports.memo``)."""
    day, current = reference_day(as_of)
    key = ("item slice", audit.id, None if current else day, part,
           tuple(sorted(_unit_names().items())))
    return memo.remembered(key, lambda: _slice(audit, day, current, part))


def _slice(audit: Audit, day: date, current: bool, part: Slice) -> list[ReportItem]:
    if current:
        items = _items_now(audit, part)
    else:
        category = func.coalesce(as_of_rule.value_then("category", day),
                                 as_of_rule.first_category(), Recommendation.category)
        ids = list(db.session.scalars(
            select(Recommendation.id)
            .where(Recommendation.audit_id == audit.id,
                   as_of_rule.value_then("state", day).is_not(None),
                   *part.conditions(category, Recommendation.number))
            .order_by(part.order(Recommendation.number)).limit(part.limit)))
        items = _items_as_of(audit, day, ids=ids) if ids else []
    return sorted(items, key=lambda item: item.number)


def _items_now(audit: Audit, part: Slice | None = None) -> list[ReportItem]:
    query = select(Recommendation).where(Recommendation.audit_id == audit.id)
    if part is None:
        query = query.order_by(Recommendation.number)
    else:
        query = (query.where(*part.conditions(Recommendation.category, Recommendation.number))
                 .order_by(part.order(Recommendation.number)).limit(part.limit))
    recommendations = db.session.scalars(
        query.options(selectinload(Recommendation.lead_team),
                      selectinload(Recommendation.supporting_teams))
    ).all()
    ids = [rec.id for rec in recommendations] if part is not None else None
    evidence = _evidence_counts(audit, None, ids)
    reasons = _decline_reasons(audit, None, ids)
    return [
        ReportItem(
            id=rec.id,
            number=rec.number,
            category=Category(rec.category),
            council_text=rec.council_text,
            state=State(rec.state),
            lead_team=rec.lead_team.name if rec.lead_team else None,
            supporting_teams=tuple(team.name for team in rec.supporting_teams),
            due_date=rec.due_date,
            action_details=rec.action_details or "",
            future_plan=rec.future_plan or None,
            evidence_count=evidence.get(rec.id, 0),
            decline_reason=reasons.get(rec.id) if rec.state == State.NOT_REFLECTED else None,
        )
        for rec in recommendations
    ]


def _items_as_of(audit: Audit, as_of: date, until: datetime | None = None, *,
                 ids: list[int] | None = None) -> list[ReportItem]:
    """One query: each field from its latest history row by the end of ``as_of``.

    The rule is ``reports.as_of``, the one the summary engine counts with, so the
    items always agree with the 총괄 table. An item without a state row by then was
    not registered yet and is absent (inner join).
    """
    in_audit = Recommendation.audit_id == audit.id
    chosen = [in_audit] if ids is None else [in_audit, Recommendation.id.in_(ids)]
    # A page of items looks up a few items: the correlated form does that on either
    # database (a few index steps per item); the whole audit takes the database's best.
    form = as_of_rule.CORRELATED if ids is not None else None
    latest = {name: as_of_rule.latest(name, as_of, *chosen, until=until, form=form)
              for name in as_of_rule.field_rows()}
    # Registration records the category; for items registered before it did, the first
    # edit's old value is the original category, else the item's own column.
    category = func.coalesce(latest["category"].c.value, as_of_rule.first_category(),
                             Recommendation.category)
    query = (
        select(Recommendation.id, Recommendation.number, category.label("category"),
               *(sub.c.value.label(name) for name, sub in latest.items() if name != "category"))
        .join(latest["state"], latest["state"].c.recommendation_id == Recommendation.id)
        .where(Recommendation.audit_id == audit.id)
    )
    for name, sub in latest.items():
        if name != "state":
            query = query.outerjoin(sub, sub.c.recommendation_id == Recommendation.id)
    if ids is not None:
        query = query.where(Recommendation.id.in_(ids))
    rows = db.session.execute(query.order_by(Recommendation.number)).all()
    units = _unit_names()
    evidence = _evidence_counts(audit, as_of_rule.cutoff(as_of, until=until), ids)
    reasons = _decline_reasons(audit, as_of_rule.cutoff(as_of, until=until), ids)
    items = []
    for row in rows:
        lead, supporting = _teams(row.teams, units)
        state = State(row.state)
        items.append(
            ReportItem(
                id=row.id,
                number=row.number,
                category=Category(row.category),
                council_text=row.council_text or "",
                state=state,
                lead_team=lead,
                supporting_teams=supporting,
                due_date=date.fromisoformat(row.due_date) if row.due_date else None,
                action_details=row.action_details or "",
                future_plan=row.future_plan or None,
                evidence_count=evidence.get(row.id, 0),
                decline_reason=reasons.get(row.id) if state is State.NOT_REFLECTED else None,
            )
        )
    return items


def _unit_names() -> dict[int, tuple[int, str]]:
    """id -> (sort order, name) of every unit: one small query."""
    return {
        unit_id: (order, name)
        for unit_id, order, name in db.session.execute(
            select(OrgUnit.id, OrgUnit.sort_order, OrgUnit.name)
        )
    }


def _teams(raw: str | None, units: dict[int, tuple[int, str]]) -> tuple[str | None, tuple[str, ...]]:
    if not raw:
        return None, ()
    value = json.loads(raw)
    lead_id = value.get("lead_team_id")
    support_ids = sorted(
        (team_id for team_id in value.get("supporting_team_ids") or [] if team_id in units),
        key=lambda team_id: units[team_id],
    )
    lead = units[lead_id][1] if lead_id in units else None
    return lead, tuple(units[team_id][1] for team_id in support_ids)


def _decline_reasons(audit: Audit, cutoff: datetime | None,
                     ids: list[int] | None = None) -> dict[int, str]:
    """The reason of each item's latest 미반영 처리 (the comment of its latest transition row
    into 미반영) before ``cutoff``, in the as-of rule's order (at, id): one query."""
    conditions = [History.recommendation_id == Recommendation.id,
                  History.kind == HistoryKind.TRANSITION.value,
                  History.to_state == State.NOT_REFLECTED.value]
    if cutoff is not None:
        conditions.append(History.at < cutoff)
    reason = (
        select(History.comment)
        .where(*conditions)
        .order_by(History.at.desc(), History.id.desc())
        .limit(1)
        .correlate(Recommendation)
        .scalar_subquery()
    )
    query = select(Recommendation.id, reason).where(Recommendation.audit_id == audit.id)
    if ids is not None:
        query = query.where(Recommendation.id.in_(ids))
    return {item_id: text for item_id, text in db.session.execute(query) if text}


def _evidence_counts(audit: Audit, cutoff: datetime | None,
                     ids: list[int] | None = None) -> dict[int, int]:
    query = (
        select(Evidence.recommendation_id, func.count())
        .join(Recommendation, Recommendation.id == Evidence.recommendation_id)
        .where(Recommendation.audit_id == audit.id)
        .group_by(Evidence.recommendation_id)
    )
    if ids is not None:
        query = query.where(Evidence.recommendation_id.in_(ids))
    if cutoff is None:
        query = query.where(Evidence.deleted_at.is_(None))
    else:
        query = query.where(
            Evidence.uploaded_at < cutoff,
            or_(Evidence.deleted_at.is_(None), Evidence.deleted_at >= cutoff),
        )
    return dict(db.session.execute(query).all())


# --- plain text ------------------------------------------------------------------------------


def to_text(report: Report) -> str:
    """The whole report as plain text: what tests compare, and what every format must show."""
    lines = [report.title, report.organisation, report.reference_label, "",
             OVERVIEW_HEADING, f"  {report.items_line}", f"  {TABLE_LINE_LABEL}"]
    lines += [" | ".join(row) for row in report.table()]
    for section in report.sections:
        lines += ["", section.heading, f"{section.left_header} | {section.right_header}"]
        for item in section.items:
            lines += [item.text(), ""]
    return "\n".join(lines).rstrip() + "\n"
