"""The due-date story of items: the first due date, and every change since (기한 변경 내역).

A change is a ``due_date`` row of the history after the first that set a date. It came
through an approved extension request when an ``approve_extension`` row of the same item
has the same moment (the approval writes both); otherwise the audit team changed the
date itself, which counts as an extension too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import History, User
from auditflow.vocabulary import Field, HistoryKind

APPROVE_TRIGGER = "approve_extension"


@dataclass(frozen=True)
class DueChange:
    """One change of an item's due date after it was first set."""

    at: datetime
    old: date | None
    new: date | None
    by: str
    reason: str
    requested: bool  # through an approved request (else the audit team changed it itself)


@dataclass(frozen=True)
class DueHistory:
    recommendation_id: int
    original: date | None
    current: date | None
    changes: tuple[DueChange, ...]

    @property
    def count(self) -> int:
        return len(self.changes)

    def summary(self) -> str:
        """"기한 연장 1회: '26.3.31. → '26.6.30. (승인: 감사팀 홍길동, 사유 …)"."""
        if not self.changes:
            return ""
        last = self.changes[-1]
        how = "승인" if last.requested else "직접 변경"
        return (f"기한 연장 {self.count}회: {dates.short(self.original)} → "
                f"{dates.short(self.current)} ({how}: {last.by}, 사유 {last.reason})")


def due_histories(recommendation_ids: list[int], until: datetime | None = None
                  ) -> dict[int, DueHistory]:
    """The due-date story of each item (one query): its first date, its changes since."""
    if not recommendation_ids:
        return {}
    approved = (History.kind == HistoryKind.EXTENSION.value) & (History.trigger == APPROVE_TRIGGER)
    query = (select(History).where(History.recommendation_id.in_(recommendation_ids),
                                   (History.field == Field.DUE_DATE.value) | approved)
             .order_by(History.recommendation_id, History.at, History.id)
             .options(selectinload(History.actor).selectinload(User.team)))
    if until is not None:
        query = query.where(History.at < until)
    by_item: dict[int, list[History]] = {}
    for row in db.session.scalars(query):
        by_item.setdefault(row.recommendation_id, []).append(row)
    stories = {item_id: due_story(item_id, item_rows) for item_id, item_rows in by_item.items()}
    return {item_id: story for item_id, story in stories.items() if story is not None}


def due_story(recommendation_id: int, rows: list[History]) -> DueHistory | None:
    """One item's due-date story from its history rows in order (any rows: those that are
    not due-date changes or approvals are passed over; the item page gives its whole
    history, with each row's actor and the actor's team loaded). None: no date was set."""
    approved_at = {row.at for row in rows
                   if row.kind == HistoryKind.EXTENSION.value and row.trigger == APPROVE_TRIGGER}
    item_rows = [row for row in rows if row.field == Field.DUE_DATE.value
                 and row.kind != HistoryKind.EXTENSION.value]
    first_set = next((i for i, row in enumerate(item_rows) if row.new_value), None)
    if first_set is None:
        return None
    original = date.fromisoformat(item_rows[first_set].new_value or "")
    changes = []
    for row in item_rows[first_set + 1:]:
        who = row.actor.name if row.actor else ""
        if row.actor and row.actor.team:
            who = f"{row.actor.team.name} {who}"
        changes.append(DueChange(
            at=row.at,
            old=date.fromisoformat(row.old_value) if row.old_value else None,
            new=date.fromisoformat(row.new_value) if row.new_value else None,
            by=who, reason=row.comment or "", requested=row.at in approved_at))
    current = changes[-1].new if changes else original
    return DueHistory(recommendation_id, original, current, tuple(changes))
