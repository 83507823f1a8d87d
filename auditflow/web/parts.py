"""Parts of a page drawn once while what they show stands still.

A list page, the summary and an item page cost most of their time in drawing the same
HTML again: the rows of a page of items, the filter form's choices, the 총괄 table. Such
a part is kept in the process (``reports.memo``, under the history chain's head, which
moves with every change to an item) and drawn again once the data under it changes.

- The part's key is what the view says it shows and to whom (``view_key``: the filters,
  the page's edge, the user's visibility key and the capabilities that change what it
  draws), with the day (D-day marks, the overdue), and the names of the audits and teams,
  which change without history (read with the head in one statement: ``state``).
- A part never holds what is the user's own: their name, the unread count, a CSRF token
  or a flash message. The page draws those around it, every request (``base.html``, and
  the form tags with their token around a kept part). A part is a macro of a template
  given only its arguments (``macro``): a macro does not see the request's context
  processors, ``current_user`` among them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from flask import g, get_template_attribute, request
from markupsafe import Markup
from sqlalchemy import func, literal, select, union_all

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Audit, OrgUnit
from auditflow.reports import memo
from auditflow.vocabulary import UnitKind

T = TypeVar("T")


@functools.cache
def _statement() -> Any:
    """The history head, the audits and the teams in one statement (one round trip a page,
    built once): rows of (kind, an int, an int, a text, the place in the order its select
    lists it); the head's row holds its length, the highest history id and the hash."""
    length, chain_hash, highest = memo.head_columns()
    return union_all(
        select(literal("h"), length, highest, chain_hash, literal(0)),
        select(literal("a"), Audit.id, Audit.year, Audit.title,
               func.row_number().over(order_by=(Audit.year.desc(), Audit.id.desc()))),
        select(literal("t"), OrgUnit.id, literal(0), OrgUnit.name,
               func.row_number().over(order_by=(OrgUnit.sort_order, OrgUnit.name)))
        .where(OrgUnit.kind != UnitKind.DIVISION.value))


@dataclass(frozen=True)
class PageState:
    """What every page part depends on, read in one statement once a request."""

    head: memo.Head | None
    audits: tuple[tuple[int, int, str], ...]  # (id, year, title), newest first
    teams: tuple[tuple[int, str], ...]  # (id, name) of the teams and task forces, in order


def state() -> PageState:
    """The history head, the audits and the teams, once a request: the pages' audit and team
    selects take them from here too (``web.forms.audit_catalogue``, ``team_choices``)."""
    def load() -> PageState:
        rows = sorted(db.session.connection().execute(_statement()).all(), key=lambda r: r[4])
        head = next((memo.head_of(a, c, b) for kind, a, b, c, _ in rows if kind == "h"), None)
        return PageState(head=head,
                         audits=tuple((a, b, c) for kind, a, b, c, _ in rows if kind == "a"),
                         teams=tuple((a, c) for kind, a, _b, c, _ in rows if kind == "t"))

    return once_per_request("page state", load)


def once_per_request(name: str, load: Callable[[], T]) -> T:
    """``load()``, kept on ``g`` for the rest of the request (or the application context):
    what a page's parts and selects read is read once however many of them show it."""
    kept_here: dict[str, Any] = g.setdefault("_once_per_request", {})
    if name not in kept_here:
        kept_here[name] = load()
    return cast(T, kept_here[name])


def kept(view_key: Hashable, draw: Callable[[], T]) -> T:
    """``draw()``, or what it drew for the same page, key, day and names while the history
    stood still."""
    now = state()
    return memo.remembered_under(
        now.head, ("page part", request.endpoint, view_key, dates.today(), now.audits, now.teams),
        draw)


def macro(template: str, name: str) -> Callable[..., Markup]:
    """A macro of ``template``, called with its arguments only (the user's own is not there)."""
    return get_template_attribute(template, name)  # type: ignore[no-any-return]
