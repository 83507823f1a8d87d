"""Who may open a page or call an endpoint. Every view says it; a hidden button is not access control.

``require(...)`` names the capabilities a view admits (any one of them; none:
any signed-in user). Signed out, a page sends the browser to the sign-in page
and the JSON API answers 401; signed in without the capability, both answer
403. What a user may do to one item is asked of the item itself
(``Recommendation.can_view`` and friends, see ``auditflow.permissions``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import abort
from flask_login import current_user

from auditflow.errors import DomainError, Forbidden
from auditflow.extensions import db, login_manager
from auditflow.http.errors import wants_json
from auditflow.models import Recommendation, User
from auditflow.permissions import Actor, Capability

P = ParamSpec("P")
R = TypeVar("R")


class LoginRequired(DomainError):
    code = "login_required"
    message = "로그인이 필요합니다."
    status = 401


def actor() -> User:
    """The signed-in user itself, not Flask-Login's proxy: services keep it on rows.

    Only for views behind ``require``, where somebody is signed in.
    """
    user = current_user._get_current_object()
    if not isinstance(user, User):
        raise LoginRequired()
    return user


def viewer() -> Actor:
    """Whoever is asking, signed in or not: what the permission rules are asked about."""
    user: Actor = current_user._get_current_object()
    return user


def require(*capabilities: Capability) -> Callable[[Callable[P, R]], Callable[P, R | Any]]:
    """Signed in, and (when any are named) holding one of ``capabilities``."""

    def decorator(view: Callable[P, R]) -> Callable[P, R | Any]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Any:
            if not current_user.is_authenticated:
                if wants_json():
                    raise LoginRequired()
                return login_manager.unauthorized()
            if capabilities and not any(current_user.can(cap) for cap in capabilities):
                raise Forbidden("이 작업을 할 권한이 없습니다.")
            return view(*args, **kwargs)

        return wrapped

    return decorator


def load_visible(recommendation_id: int, *options: Any) -> Recommendation:
    """The recommendation, or 404 when it does not exist or this user may not see it."""
    recommendation = db.session.get(Recommendation, recommendation_id, options=list(options))
    if recommendation is None or not recommendation.can_view(viewer()):
        abort(404)
    return recommendation
