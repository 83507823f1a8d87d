"""The daily reminders: one digest per person and day, never one message per item.

For the day ``day`` (in the body's zone):

- each department user gets the open items of their teams that are due in 7, 3 or 0
  days, or overdue;
- each reviewer (the audit team) gets the overdue items of every team, by team;
- an item overdue by ``ESCALATE_AFTER_DAYS`` or more is escalated: it is marked so in
  the audit team's digest, and it goes into the digest of its teams' managers.

A digest is a notification with ``digest_day`` set (unique per user and day) and, where
wanted, its e-mail. Running the day again writes nothing new. The caller commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Notification, OrgUnit, Recommendation, User
from auditflow.permissions import Capability, roles_with
from auditflow.services import notifications
from auditflow.vocabulary import CLOSED, NotificationKind

AHEAD = (7, 3, 0)  # days before the due date a team is reminded


@dataclass
class RunResult:
    day: date
    digests: list[Notification] = field(default_factory=list)
    skipped: int = 0  # people who had their digest of the day already
    done: set[int] = field(default_factory=set, repr=False)  # who has it (user ids)


def run(day: date | None = None) -> RunResult:
    """Write the digests of ``day`` (today by default). Flushes; the caller commits."""
    day = day or dates.today()
    escalate_after = int(current_app.config["ESCALATE_AFTER_DAYS"])
    items = _open_items_with_due_dates()
    result = RunResult(day)
    result.done = set(db.session.scalars(
        select(Notification.user_id).where(Notification.digest_day == day)))
    by_team: dict[int, list[Recommendation]] = defaultdict(list)
    for item in items:
        for team_id in item.team_ids:
            by_team[team_id].append(item)
    workers = db.session.scalars(
        select(User).where(User.active.is_(True),
                           User.role.in_(roles_with(Capability.WORK_ON_ASSIGNED_ITEMS)))
        .order_by(User.id)).all()
    for user in workers:
        mine = by_team.get(user.team_id or -1, [])
        lines = _team_lines(mine, day)
        if user.is_manager:
            escalated = [item for item in mine if _days_over(item, day) >= escalate_after]
            if escalated:
                lines += ["", f"■ 기한이 {escalate_after}일 넘게 지나 관리자께 알리는 건"]
                lines += [_line(item, day) for item in escalated]
        _digest(result, user, day, lines)
    overdue = [item for item in items if _days_over(item, day) > 0]
    for user in notifications.reviewers():
        _digest(result, user, day, _review_lines(overdue, day, escalate_after))
    return result


def _open_items_with_due_dates() -> list[Recommendation]:
    return list(db.session.scalars(
        select(Recommendation)
        .where(Recommendation.state.not_in([state.value for state in CLOSED]),
               Recommendation.due_date.is_not(None))
        .order_by(Recommendation.due_date, Recommendation.id)
        .options(selectinload(Recommendation.audit), selectinload(Recommendation.lead_team),
                 selectinload(Recommendation.supporting_teams))))


def _days_over(item: Recommendation, day: date) -> int:
    assert item.due_date is not None
    return (day - item.due_date).days


def _line(item: Recommendation, day: date) -> str:
    assert item.due_date is not None
    over = _days_over(item, day)
    when = f"D+{over}" if over > 0 else ("D-day" if over == 0 else f"D{over}")
    team = item.lead_team.name if item.lead_team else "담당 미지정"
    text = item.council_text if len(item.council_text) <= 60 else item.council_text[:60] + "…"
    return (f"- [{when}] {item.audit.year} {item.number}번 ({team}, 기한 {dates.short(item.due_date)}) "
            f"{text}\n  {notifications.item_url(item.id)}")


def _team_lines(items: list[Recommendation], day: date) -> list[str]:
    overdue = [item for item in items if _days_over(item, day) > 0]
    lines = []
    if overdue:
        lines += [f"■ 기한이 지난 요구사항 {len(overdue)}건", *(_line(i, day) for i in overdue)]
    for ahead in AHEAD:
        due = [item for item in items if item.due_date == day + timedelta(days=ahead)]
        if due:
            title = "오늘이 기한인 요구사항" if ahead == 0 else f"기한이 {ahead}일 남은 요구사항"
            lines += ["", f"■ {title} {len(due)}건", *(_line(i, day) for i in due)]
    return lines


def _review_lines(overdue: list[Recommendation], day: date, escalate_after: int) -> list[str]:
    if not overdue:
        return []
    by_team: dict[str, list[Recommendation]] = defaultdict(list)
    for item in overdue:
        by_team[item.lead_team.name if item.lead_team else "담당 미지정"].append(item)
    order = {team.name: team.sort_order for team in db.session.scalars(select(OrgUnit))}
    lines = [f"■ 기한이 지난 요구사항 {len(overdue)}건 (부서별)"]
    for team in sorted(by_team, key=lambda name: (order.get(name, 10**6), name)):
        lines += ["", f"[{team}] {len(by_team[team])}건"]
        for item in by_team[team]:
            mark = " ※ 관리자 보고" if _days_over(item, day) >= escalate_after else ""
            lines.append(_line(item, day) + mark)
    return lines


def _digest(result: RunResult, user: User, day: date, lines: list[str]) -> None:
    if not lines:
        return
    if user.id in result.done:
        result.skipped += 1
        return
    count = sum(1 for line in lines if line.startswith("- "))
    try:
        with db.session.begin_nested():
            written = notifications.notify(
                [user], NotificationKind.DIGEST, digest_day=day,
                title=f"{dates.short(day)} 처리 기한 알림: 확인할 요구사항 {count}건",
                body="\n".join(lines).strip())
    except IntegrityError:  # another run wrote this user's digest a moment ago
        result.skipped += 1
        return
    result.digests += written
    result.done.add(user.id)
