"""What every template may use: dates as the documents write them, state words, D-day."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, request, url_for
from flask_login import current_user

from auditflow import dates, outline
from auditflow.http import sessions
from auditflow.korean import with_particle
from auditflow.permissions import Capability
from auditflow.reports import FORMAT_LABELS
from auditflow.services import notifications
from auditflow.vocabulary import CLOSED, Category, HistoryKind, Role, State
from auditflow.web import drafts


def short_date(day: date | None) -> str:
    return dates.short(day)


def state_label(state: str | State | None) -> str:
    return State(state).label if state else ""


def state_badge(state: str | State | None) -> str:
    """The KRDS badge class of a state: a colour per state, from State.badge."""
    return f"bg-light-{State(state).badge}" if state else "bg-light-gray"


def category_label(category: str | Category | None) -> str:
    return Category(category).label if category else ""


def role_label(role: str | None) -> str:
    return Role(role).label if role else ""


def history_label(kind: str) -> str:
    return HistoryKind(kind).label


def d_day(due: date | None, today: date | None = None) -> str:
    """"D-3" before the due date, "D-day" on it, "D+5 (기한 경과)" after it."""
    if due is None:
        return ""
    days = (due - (today or dates.today())).days
    if days > 0:
        return f"D-{days}"
    if days == 0:
        return "D-day"
    return f"D+{-days} (기한 경과)"


def is_overdue(recommendation: object, today: date | None = None) -> bool:
    due = getattr(recommendation, "due_date", None)
    state = getattr(recommendation, "state", None)
    return (due is not None and state is not None and due < (today or dates.today())
            and State(state) not in CLOSED)


def local_time(moment: datetime | None) -> str:
    """A moment in the body's time zone, as '26.1.31. 14:05."""
    if moment is None:
        return ""
    local = dates.local(moment)
    return f"{dates.short(local.date())} {local:%H:%M}"


# The menu: (endpoint, label, the capability it needs, or None for every signed-in user).
NAV: tuple[tuple[str, str, Capability | None], ...] = (
    ("home.index", "홈", None),
    ("recommendations.index", "요구사항", None),
    ("audits.index", "감사 관리", Capability.MANAGE_ITEMS),
    ("summary.index", "처리결과 총괄", Capability.VIEW_REPORTS),
    ("status.teams", "부서별 현황", Capability.VIEW_REPORTS),
    ("status.open_list", "미완료 과제", Capability.VIEW_REPORTS),
    ("admin.users", "사용자 관리", Capability.ADMINISTER_USERS),
)


def nav_links() -> list[dict[str, object]]:
    """The menu for this user; one entry is current: the page itself, else its section's."""
    user = current_user
    if not user.is_authenticated:
        return []
    here = request.endpoint or ""
    shown = [(endpoint, label) for endpoint, label, capability in NAV
             if capability is None or user.can(capability)]
    current = next((endpoint for endpoint, _ in shown if endpoint == here), None)
    if current is None:  # a page below one of the menu's, e.g. an item under 요구사항
        section = here.split(".")[0]
        current = next((endpoint for endpoint, _ in shown
                        if section != "home" and endpoint.split(".")[0] == section), None)
    return [{"url": url_for(endpoint), "label": label, "current": endpoint == current}
            for endpoint, label in shown]


def unread_notifications() -> int:
    """The bell's number: the signed-in user's unread notifications, as counted with the
    session (``sessions.unread_read_with_session``), else by a count query."""
    user = current_user
    if not user.is_authenticated:
        return 0
    counted = sessions.unread_read_with_session()
    return counted if counted is not None else notifications.unread_count(user.id)


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        short_date=short_date,
        state_label=state_label,
        state_badge=state_badge,
        category_label=category_label,
        role_label=role_label,
        history_label=history_label,
        d_day=d_day,
        local_time=local_time,
        with_particle=with_particle,
    )
    app.jinja_env.globals.update(
        d_day=d_day,
        is_overdue=is_overdue,
        nav_links=nav_links,
        unread_notifications=unread_notifications,
        session_seconds_left=sessions.seconds_left,
        saved_drafts=drafts.saved_keys,
        draft_key=drafts.key,
        Draft=drafts.Draft,
        outline_lines=outline.parse,
        short_date=short_date,
        state_label=state_label,
        States=State,
        Categories=Category,
        Capability=Capability,
        format_labels=FORMAT_LABELS,
    )
