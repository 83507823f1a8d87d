"""내 할 일: what is each person's to do, most urgent first, each row saying why it is there.

- a team user: returned for rework (with the reason) first, then overdue, due within
  7 days, not started, being written, waiting for review; closed items apart;
- a reviewer (the audit team): items waiting for review, oldest first; overdue items by
  team; items due within 7 days with nothing written yet;
- whoever reads the reports (the liaison): the summary of the latest audit, and the
  items that would change it before its reference date (waiting for a decision, or open
  and due by then).

Lists are one query each over indexed columns, bounded by ``LIMIT``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, nulls_last, select
from sqlalchemy.orm import selectinload, undefer

from auditflow import dates
from auditflow.extensions import db
from auditflow.korean import with_particle
from auditflow.models import Audit, DueDateExtension, History, Recommendation, TransferRequest
from auditflow.models.recommendation import RETURN_TRIGGER
from auditflow.permissions import Actor, Capability
from auditflow.reports.summary import Summary, latest_audit, summarize
from auditflow.reports.teams import TeamRow, team_status
from auditflow.vocabulary import CLOSED, HistoryKind, RequestState, State

SOON = 7  # days: "due soon"
LIMIT = 100


@dataclass(frozen=True)
class Reason:
    code: str
    label: str
    badge: str  # KRDS badge class


RETURNED = Reason("returned", "보완 요청", "bg-danger")
OVERDUE = Reason("overdue", "기한 경과", "bg-danger")
DUE_SOON = Reason("due_soon", f"기한 {SOON}일 이내", "bg-warning")
NOT_STARTED = Reason("not_started", "추진 시작 전", "bg-light-secondary")
WRITING = Reason("writing", "작성 중", "bg-light-information")
WAITING = Reason("waiting", "검토 대기", "bg-light-warning")
NOTHING_WRITTEN = Reason("nothing_written", "기한 임박·작성 없음", "bg-warning")
EXTENSION_ASKED = Reason("extension_requested", "기한 연장 요청", "bg-warning")
EXTENSION_DECIDED = Reason("extension_decided", "기한 연장 결정", "bg-light-information")
TRANSFER_ASKED = Reason("transfer_requested", "이관 요청", "bg-warning")
TRANSFER_DECLINED = Reason("transfer_declined", "이관 반려", "bg-light-information")
DECISIONS_SHOWN = 7  # days a team sees the decision on its request

_ORDER = [RETURNED, TRANSFER_DECLINED, EXTENSION_DECIDED, OVERDUE, DUE_SOON, NOT_STARTED,
          WRITING, WAITING]


@dataclass(frozen=True)
class Row:
    item: Recommendation
    reason: Reason
    detail: str = ""  # the return reason, "D+3", "12일째 대기", …


@dataclass
class WorkQueue:
    today: date
    rows: list[Row] = field(default_factory=list)  # what to do, most urgent first
    done: list[Recommendation] = field(default_factory=list)  # closed (teams only)
    overdue_by_team: list[TeamRow] = field(default_factory=list)  # reviewers
    summary: Summary | None = None  # readers of the reports
    audit: Audit | None = None


def _items(*conditions: Any, order: Any = None, limit: int = LIMIT) -> list[Recommendation]:
    return list(db.session.scalars(
        select(Recommendation).where(*conditions)
        .order_by(*(order or (nulls_last(Recommendation.due_date.asc()), Recommendation.id)))
        .limit(limit)
        .options(undefer(Recommendation.last_trigger), selectinload(Recommendation.audit),
                 selectinload(Recommendation.lead_team),
                 selectinload(Recommendation.supporting_teams))))


def _open() -> Any:
    return Recommendation.state.not_in([state.value for state in CLOSED])


def _d(item: Recommendation, today: date) -> str:
    if item.due_date is None:
        return ""
    days = (item.due_date - today).days
    return f"D-{days}" if days > 0 else ("D-day" if days == 0 else f"D+{-days}")


def latest_reasons(item_ids: list[int], trigger: str) -> dict[int, History]:
    """The latest history row of ``trigger`` for each item (one query)."""
    if not item_ids:
        return {}
    newest = (select(History.recommendation_id, func.max(History.id).label("id"))
              .where(History.recommendation_id.in_(item_ids), History.trigger == trigger,
                     History.kind == HistoryKind.TRANSITION.value)
              .group_by(History.recommendation_id).subquery())
    rows = db.session.scalars(select(History).join(newest, newest.c.id == History.id)
                              .options(selectinload(History.actor)))
    return {row.recommendation_id: row for row in rows}


def _team_queue(user: Actor, today: date) -> WorkQueue:
    queue = WorkQueue(today)
    visible = Recommendation.visible_to(user)
    open_items = _items(visible, _open())
    returns = latest_reasons([i.id for i in open_items if i.is_returned], RETURN_TRIGGER)
    rows = []
    for item in open_items:
        state = item.state_enum
        if item.is_returned:
            reason = returns.get(item.id)
            row = Row(item, RETURNED, (reason.comment or "") if reason else "")
        elif item.due_date is not None and item.due_date < today:
            row = Row(item, OVERDUE, _d(item, today))
        elif item.due_date is not None and item.due_date <= today + timedelta(days=SOON):
            row = Row(item, DUE_SOON, _d(item, today))
        elif state == State.RECEIVED:
            row = Row(item, NOT_STARTED, _d(item, today))
        elif state == State.IN_PROGRESS:
            row = Row(item, WRITING, _d(item, today))
        else:
            row = Row(item, WAITING, _d(item, today))
        rows.append(row)
    since = dates.end_of_day(today - timedelta(days=DECISIONS_SHOWN + 1))
    decided = db.session.scalars(
        select(DueDateExtension).join(Recommendation)
        .where(visible, DueDateExtension.decided_at >= since,
               DueDateExtension.state.in_([RequestState.APPROVED.value,
                                           RequestState.DECLINED.value]))
        .options(selectinload(DueDateExtension.recommendation)
                 .selectinload(Recommendation.audit))).all()
    for extension in decided:
        rows.append(Row(extension.recommendation, EXTENSION_DECIDED,
                        f"{extension.state_enum.label}: {dates.short(extension.requested_due)}"))
    # An approved transfer took the item away; a declined one leaves it here, with why.
    declined = db.session.scalars(
        select(TransferRequest).join(Recommendation)
        .where(visible, TransferRequest.decided_at >= since,
               TransferRequest.state == RequestState.DECLINED.value)
        .options(selectinload(TransferRequest.to_team),
                 selectinload(TransferRequest.recommendation)
                 .selectinload(Recommendation.audit))).all()
    for transfer in declined:
        detail = f"{with_particle(transfer.to_team.name, '으로/로')} 이관 반려"
        if transfer.decision_reason:
            detail += f": {transfer.decision_reason}"
        rows.append(Row(transfer.recommendation, TRANSFER_DECLINED, detail))
    queue.rows = sorted(rows, key=lambda r: (_ORDER.index(r.reason), r.item.due_date or date.max,
                                             r.item.id))
    queue.done = _items(visible, Recommendation.state.in_([s.value for s in CLOSED]),
                        order=(Recommendation.updated_at.desc(), Recommendation.id), limit=50)
    return queue


def _review_queue(today: date) -> WorkQueue:
    queue = WorkQueue(today)
    waiting = _items(Recommendation.state == State.REVIEWING.value)
    submitted = latest_reasons([item.id for item in waiting], "submit")
    since = {item.id: submitted[item.id].at if item.id in submitted else item.updated_at
             for item in waiting}
    waiting.sort(key=lambda item: (since[item.id], item.id))
    asked = db.session.scalars(
        select(DueDateExtension).where(DueDateExtension.state == RequestState.PENDING.value)
        .order_by(DueDateExtension.requested_at)
        .options(selectinload(DueDateExtension.recommendation)
                 .selectinload(Recommendation.audit))).all()
    rows = [Row(extension.recommendation, EXTENSION_ASKED,
                f"{dates.short(extension.previous_due) or '미지정'} → "
                f"{dates.short(extension.requested_due)}: {extension.reason}")
            for extension in asked]
    handing = db.session.scalars(
        select(TransferRequest).where(TransferRequest.state == RequestState.PENDING.value)
        .order_by(TransferRequest.requested_at)
        .options(selectinload(TransferRequest.from_team), selectinload(TransferRequest.to_team),
                 selectinload(TransferRequest.recommendation)
                 .selectinload(Recommendation.audit))).all()
    rows += [Row(transfer.recommendation, TRANSFER_ASKED,
                 f"{transfer.from_team.name} → {transfer.to_team.name}: {transfer.reason}")
             for transfer in handing]
    rows += [Row(item, WAITING, f"{_days_since(since[item.id], today)}일째 대기")
             for item in waiting]
    soon = _items(_open(), Recommendation.due_date.is_not(None),
                  Recommendation.due_date >= today,
                  Recommendation.due_date <= today + timedelta(days=SOON),
                  func.trim(Recommendation.action_details) == "")
    rows += [Row(item, NOTHING_WRITTEN, _d(item, today)) for item in soon]
    queue.rows = rows
    queue.overdue_by_team = [row for row in team_status(None).rows if row.overdue]
    return queue


def _days_since(moment: datetime, today: date) -> int:
    return max((today - dates.local(moment).date()).days, 0)


def _reader_queue(today: date) -> WorkQueue:
    audit = latest_audit()
    queue = WorkQueue(today, audit=audit)
    if audit is None:
        return queue
    queue.summary = summarize(audit)
    horizon = audit.reference_date if audit.reference_date and audit.reference_date > today \
        else today + timedelta(days=30)
    in_audit = Recommendation.audit_id == audit.id
    waiting = _items(in_audit, Recommendation.state == State.REVIEWING.value)
    due = _items(in_audit, Recommendation.state.in_([State.RECEIVED.value,
                                                    State.IN_PROGRESS.value]),
                 Recommendation.due_date.is_not(None), Recommendation.due_date <= horizon)
    queue.rows = ([Row(item, WAITING, "승인·미반영 결정 대기") for item in waiting]
                  + [Row(item, OVERDUE if item.due_date and item.due_date < today else DUE_SOON,
                         _d(item, today)) for item in due])
    return queue


def work_queue(user: Actor, today: date | None = None) -> WorkQueue:
    """The home page's list for ``user``, by what they may do."""
    today = today or dates.today()
    if user.can(Capability.REVIEW_ITEMS):
        return _review_queue(today)
    if user.can(Capability.WORK_ON_ASSIGNED_ITEMS):
        return _team_queue(user, today)
    if user.can(Capability.VIEW_REPORTS):
        return _reader_queue(today)
    return WorkQueue(today)
