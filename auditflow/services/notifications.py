"""Telling people what is theirs to do: notifications in the app and, where wanted, by e-mail.

A notification is written in the same transaction as the event it tells of (an
assignment, a return for rework, a decision, a comment), so it exists exactly when
the event does. Its e-mail goes into the outbox (``EmailMessage``) in that same
transaction; ``auditflow.jobs`` sends it after the commit. Nobody is told of their
own action.

Who is told:

- assigned (lead or supporting): the users of the newly assigned teams;
- returned, approved, declined, reopened: the users of the item's teams;
- a comment: the item's team users and the reviewers (the audit team).

In the app every notification shows; by e-mail only when the user has an address,
the server has an SMTP host, and the user has not switched that kind off.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, func, select

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import (
    Audit,
    Comment,
    EmailMessage,
    Notification,
    NotificationPreference,
    Recommendation,
    User,
    utcnow,
)
from auditflow.permissions import Capability, roles_with
from auditflow.vocabulary import NotificationKind

_QUIET = "auditflow.notifications_quiet"

# The triggers that tell the item's teams, and as what.
TRIGGER_KINDS = {
    "return_for_rework": NotificationKind.RETURNED,
    "approve": NotificationKind.APPROVED,
    "decline": NotificationKind.DECLINED,
    "reopen": NotificationKind.REOPENED,
}


@contextmanager
def quiet() -> Iterator[None]:
    """Tell nobody of what happens inside (loading the seed or an earlier year's report)."""
    info = db.session().info
    before = info.get(_QUIET, False)
    info[_QUIET] = True
    try:
        yield
    finally:
        info[_QUIET] = before


def _silenced() -> bool:
    return bool(db.session().info.get(_QUIET))


# ─── who ─────────────────────────────────────────────────────────────────────


def team_users(team_ids: Iterable[int]) -> list[User]:
    """The active users who work on items of these teams."""
    ids = set(team_ids)
    if not ids:
        return []
    return list(db.session.scalars(
        select(User).where(User.team_id.in_(ids), User.active.is_(True),
                           User.role.in_(roles_with(Capability.WORK_ON_ASSIGNED_ITEMS)))
        .order_by(User.id)))


def reviewers() -> list[User]:
    """The active users who review results (the audit team)."""
    return list(db.session.scalars(
        select(User).where(User.active.is_(True),
                           User.role.in_(roles_with(Capability.REVIEW_ITEMS)))
        .order_by(User.id)))


# ─── events ──────────────────────────────────────────────────────────────────


def assigned(recommendation: Recommendation, actor: User | None,
             before: Iterable[int] = (), before_lead: int | None = None) -> None:
    """Teams newly made lead or supporting team of the item (a supporting team made the
    lead is told too: the item is now its to submit)."""
    added = recommendation.team_ids - set(before)
    lead_id = recommendation.lead_team_id
    if lead_id is not None and lead_id != before_lead:
        added.add(lead_id)
    if not added:
        return
    lead = recommendation.lead_team
    for user in team_users(added):
        role = "주관 부서" if lead is not None and user.team_id == lead.id else "협조 부서"
        notify([user], NotificationKind.ASSIGNED, recommendation=recommendation, actor=actor,
               title=f"{_item_name(recommendation)}의 {role}로 지정되었습니다",
               body=_item_body(recommendation, due=True))


def transitioned(recommendation: Recommendation, trigger: str, actor: User | None,
                 reason: str | None) -> None:
    kind = TRIGGER_KINDS.get(trigger)
    if kind is None:
        return
    titles = {
        NotificationKind.RETURNED: "보완 요청이 왔습니다",
        NotificationKind.APPROVED: "승인(완료)되었습니다",
        NotificationKind.DECLINED: "미반영으로 처리되었습니다",
        NotificationKind.REOPENED: "재추진하게 되었습니다",
    }
    body = _item_body(recommendation, due=kind is not NotificationKind.APPROVED)
    if reason and reason.strip():
        body = f"사유: {reason.strip()}\n\n{body}"
    notify(team_users(recommendation.team_ids), kind, recommendation=recommendation,
           actor=actor, title=f"{_item_name(recommendation)}: {titles[kind]}", body=body)


def commented(recommendation: Recommendation, comment: Comment) -> None:
    people = {user.id: user for user in [*team_users(recommendation.team_ids), *reviewers()]}
    author = comment.author
    notify(people.values(), NotificationKind.COMMENTED, recommendation=recommendation,
           actor=author,
           title=f"{_item_name(recommendation)}에 {author.name}님이 의견을 남겼습니다",
           body=f"{comment.body}\n\n{_item_body(recommendation, due=False)}")


# ─── writing them ────────────────────────────────────────────────────────────


def notify(users: Iterable[User], kind: NotificationKind, *, title: str, body: str,
           recommendation: Recommendation | None = None, actor: User | None = None,
           digest_day: date | None = None) -> list[Notification]:
    """One notification per user (never the actor), and its e-mail where wanted. Flushes."""
    if _silenced():
        return []
    written = []
    seen: set[int] = set()
    for user in users:
        if user.id in seen or (actor is not None and user.id == actor.id) or not user.active:
            continue
        seen.add(user.id)
        notification = Notification(user=user, kind=kind.value, recommendation=recommendation,
                                    digest_day=digest_day, title=title, body=body,
                                    created_at=utcnow())
        db.session.add(notification)
        written.append(notification)
    if not written:
        return []
    db.session.flush()
    wanting = _wanting_email([n.user for n in written], kind)
    mailed = [n for n in written if n.user.id in wanting]
    if mailed:
        sender = organisation()
        for notification in mailed:
            queue_email(notification, sender)
        db.session.flush()
    return written


def _wanting_email(users: Sequence[User], kind: NotificationKind) -> set[int]:
    """Of ``users``, those who get ``kind`` by e-mail: an address, a mail server, not switched
    off. One query for all of them."""
    if not current_app.config.get("SMTP_HOST"):
        return set()
    addressed = {user.id for user in users if user.email}
    if not addressed:
        return set()
    off = set(db.session.scalars(select(NotificationPreference.user_id).where(
        NotificationPreference.user_id.in_(addressed),
        NotificationPreference.kind == kind.value, NotificationPreference.email.is_(False))))
    return addressed - off


def queue_email(notification: Notification, sender: str) -> EmailMessage:
    """The e-mail of a notification, into the outbox (once: the key is the notification's).
    ``sender`` is the organisation it comes from."""
    user = notification.user
    message = EmailMessage(
        dedup_key=f"notification:{notification.id}",
        notification_id=notification.id,
        user_id=user.id,
        to_address=user.email or "",
        subject=f"[{sender} 행정사무감사] {notification.title}",
        body=_email_body(notification, sender),
        created_at=utcnow(),
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    return message


def email_preferences(user: User) -> dict[NotificationKind, bool]:
    """Whether each kind comes by e-mail for ``user`` (on unless switched off)."""
    stored = {row.kind: row.email for row in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id))}
    return {kind: stored.get(kind.value, True) for kind in NotificationKind}


def set_email_preferences(user: User, wanted: Sequence[NotificationKind]) -> None:
    """Switch e-mail on for the kinds in ``wanted`` and off for the others. Flushes."""
    for kind in NotificationKind:
        row = db.session.get(NotificationPreference, (user.id, kind.value))
        if row is None:
            db.session.add(NotificationPreference(user_id=user.id, kind=kind.value,
                                                  email=kind in wanted))
        else:
            row.email = kind in wanted
    db.session.flush()


def mark_read(user: User, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications (or all of them) read; how many were unread."""
    query = select(Notification).where(Notification.user_id == user.id,
                                       Notification.read_at.is_(None))
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    now = utcnow()
    rows = list(db.session.scalars(query))
    for row in rows:
        row.read_at = now
    db.session.flush()
    return len(rows)


def unread_of(user_id: Any) -> Any:
    """The count of the unread notifications of ``user_id`` (a value, a bound parameter or a
    column to correlate with): the one definition of the bell's number."""
    return select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))


@functools.cache
def _unread_statement() -> Any:
    return unread_of(bindparam("user_id"))


def unread_count(user_id: int) -> int:
    """The bell's number (on every page: the statement is built once and run on the session's
    connection, without the ORM's work for rows it does not load)."""
    return int(db.session.connection().execute(_unread_statement(),
                                               {"user_id": user_id}).scalar() or 0)


# ─── words ───────────────────────────────────────────────────────────────────


def organisation() -> str:
    """The body that sends: the organisation of the latest audit (e.g. 서울AI재단)."""
    name = db.session.scalar(select(Audit.organisation).order_by(Audit.year.desc(),
                                                                 Audit.id.desc()).limit(1))
    return name or "auditflow"


def item_url(recommendation_id: int) -> str:
    return f"{current_app.config['BASE_URL'].rstrip('/')}/recommendations/{recommendation_id}"


def _item_name(recommendation: Recommendation) -> str:
    return f"{recommendation.audit.title} {recommendation.number}번 요구사항"


def _item_body(recommendation: Recommendation, *, due: bool) -> str:
    text = recommendation.council_text
    lines = [f"ㅇ {text if len(text) <= 300 else text[:300] + '…'}"]
    if due and recommendation.due_date is not None:
        days = (recommendation.due_date - dates.today()).days
        left = f"D-{days}" if days > 0 else ("D-day" if days == 0 else f"D+{-days}, 기한 경과")
        lines.append(f"처리 기한: {dates.short(recommendation.due_date)} ({left})")
    return "\n".join(lines)


def _email_body(notification: Notification, sender: str) -> str:
    base = current_app.config["BASE_URL"].rstrip("/")
    parts = [f"{notification.user.name}님,", "", notification.title, "", notification.body]
    if notification.recommendation_id is not None:
        parts += ["", f"바로 가기: {item_url(notification.recommendation_id)}"]
    else:
        parts += ["", f"바로 가기: {base}/"]
    parts += [
        "",
        "—",
        f"{sender} 행정사무감사 처리결과 관리 시스템에서 보낸 알림입니다.",
        f"알림 메일 설정: {base}/account/notifications",
    ]
    return "\n".join(parts)
