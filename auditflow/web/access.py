"""Who may open a page. Every view says it; a hidden button is not access control."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from auditflow.models.recommendation import READER_ROLES

F = TypeVar("F", bound=Callable[..., Any])


def actor() -> Any:
    """The signed-in user itself, not Flask-Login's proxy: services keep it on rows."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


def require_roles(*roles: str) -> Callable[[F], F]:
    """Signed in, and one of ``roles``; otherwise 401 (to the sign-in page) or 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


READERS = tuple(sorted(READER_ROLES))  # see every item
ITEM_ACTORS = ("audit", "department")  # may change items (admin and liaison only read)


def visible_to(user: Any) -> Any:
    """A WHERE clause: the recommendations ``user`` may see (filter in the query, not the page)."""
    from auditflow.models.recommendation import visible_filter

    return visible_filter(user)


def load_visible(recommendation_id: int, *options: Any) -> Any:
    """The recommendation, or 404 when it does not exist or this user may not see it."""
    from auditflow.extensions import db
    from auditflow.models import Recommendation
    from auditflow.models.recommendation import can_view

    recommendation = db.session.get(Recommendation, recommendation_id, options=list(options))
    if recommendation is None or not can_view(recommendation, current_user):
        abort(404)
    return recommendation
