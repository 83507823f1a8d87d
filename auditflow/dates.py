"""Dates as the documents write them, and days in the body's own time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Seoul"


def zone(name: str | None = None) -> ZoneInfo:
    if name is None:
        try:
            from flask import current_app

            name = current_app.config.get("TIMEZONE", DEFAULT_TZ)
        except RuntimeError:
            name = DEFAULT_TZ
    return ZoneInfo(name or DEFAULT_TZ)


def today(tz: str | None = None) -> date:
    return datetime.now(zone(tz)).date()


def end_of_day(day: date, tz: str | None = None) -> datetime:
    """The first instant after ``day`` in the local zone, in UTC: "as the history stood at the end of that day"."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone(tz)).astimezone(UTC)


def at_local(day: date, hour: int = 9, minute: int = 0, tz: str | None = None) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone(tz)).astimezone(UTC)


def short(day: date | None) -> str:
    """'26.1.31. — the short form Korean public documents use."""
    if day is None:
        return ""
    return f"'{day.year % 100:02d}.{day.month}.{day.day}."


def local(moment: datetime, tz: str | None = None) -> datetime:
    """``moment`` on the clock of the body's time zone."""
    return moment.astimezone(zone(tz))
