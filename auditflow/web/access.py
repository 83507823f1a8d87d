"""Who may open a page. Every view says it; a hidden button is not access control."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

F = TypeVar("F", bound=Callable[..., Any])


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


READERS = ("admin", "audit", "liaison")  # see every item
