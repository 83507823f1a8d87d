"""Texts being written, kept in the browser until the server has them (``app.js``).

A form that keeps drafts carries ``data-draft="<key>"``; the key names the user,
the item and the form, so another user of the same browser never sees them.
A view that has saved such a form says so with ``saved(...)``: the next page
carries the key in ``data-draft-saved`` and the browser drops its copy. Until
then (a session that timed out, a form token that expired, a sign-in in
between) the browser puts the text back on the page, with a notice.
"""

from __future__ import annotations

from enum import StrEnum

from flask import flash, get_flashed_messages
from flask_login import current_user

SAVED = "draft-saved"  # a flash category no page shows as a message


class Draft(StrEnum):
    RESULT = "result"  # 추진내용 and 향후계획
    COMMENT = "comment"
    EXTENSION = "extension"  # the reason of a due-date extension request
    TRANSFER = "transfer"  # the reason of a transfer request


def key(recommendation_id: int, draft: Draft) -> str:
    return f"{current_user.id}-{recommendation_id}-{draft}"


def saved(recommendation_id: int, draft: Draft) -> None:
    flash(key(recommendation_id, draft), SAVED)


def saved_keys() -> list[str]:
    """The drafts the request before this page saved (taken once, like every flash)."""
    return [str(message) for message in get_flashed_messages(category_filter=[SAVED])]
