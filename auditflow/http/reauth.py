"""Re-authentication (본인 확인): some work asks for the password again, however long one is signed in.

User administration and 발행 change who may do what, or put the audit's results on record
under the body's name: a browser left open must not do them. ``recent_confirmation``
lets such a view through only when the user gave their password (and their second
factor's code, when enrolled) within ``REAUTH_MINUTES``; signing in counts as giving it.
Otherwise the browser goes to the 본인 확인 page (``auth.confirm``) and comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import current_app, flash, redirect, session, url_for

from auditflow.errors import DomainError
from auditflow.http.errors import wants_json
from auditflow.http.navigation import return_path, safe_next
from auditflow.http.sessions import LOGIN_AT
from auditflow.models import utcnow

P = ParamSpec("P")
R = TypeVar("R")

CONFIRMED_AT = "auth_confirmed_at"  # epoch seconds (UTC) of the latest 본인 확인
MESSAGE = "보안을 위해 비밀번호를 한 번 더 확인합니다. 확인 후 하던 작업을 계속하세요."


class ConfirmationRequired(DomainError):
    code = "reauthentication_required"
    message = "보안을 위해 본인 확인이 필요합니다. 비밀번호를 다시 입력한 뒤 진행하세요."
    status = 401


def confirmed_at() -> float | None:
    """When this session last gave the password: a 본인 확인, or else the sign-in."""
    moment = session.get(CONFIRMED_AT, session.get(LOGIN_AT))
    return moment if isinstance(moment, int | float) else None


def minutes() -> int:
    return int(current_app.config["REAUTH_MINUTES"])


def is_recent() -> bool:
    moment = confirmed_at()
    limit = minutes() * 60
    return moment is not None and 0 <= utcnow().timestamp() - moment <= limit


def mark_confirmed() -> None:
    session[CONFIRMED_AT] = utcnow().timestamp()


def recent_confirmation(view: Callable[P, R]) -> Callable[P, R | Any]:
    """Only after a recent 본인 확인; otherwise to the confirmation page and back.

    Put it below ``require(...)``: who may do it at all is asked first.
    """

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Any:
        if is_recent():
            return view(*args, **kwargs)
        if wants_json():
            raise ConfirmationRequired()
        flash(MESSAGE, "info")
        return redirect(url_for("auth.confirm", next=return_path()), code=303)

    return wrapped


def back_to(target: str | None, default: str) -> str:
    """Where the confirmation page sends the user back to: a page of this site only."""
    return safe_next(target, default)

