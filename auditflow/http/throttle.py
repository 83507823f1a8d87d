"""Sign-in posts per address, counted by the application's limiter (Flask-Limiter, made
in ``api.limits``: Redis when configured, so every web process counts together, else
each process's memory), so that one address cannot keep the password hasher busy.
Above ``LOGIN_RATE_LIMIT`` the answer is 429 with ``Retry-After`` and a Korean page."""

from __future__ import annotations

import logging
import math
import time

from flask import current_app, request
from flask_limiter import Limiter
from limits import parse
from werkzeug.exceptions import TooManyRequests

SCOPE = "sign-in"

log = logging.getLogger("auditflow.http")


def limiter() -> Limiter:
    """The one limiter of this application (api.limits.init_limiter registers it)."""
    limiters: set[Limiter] = current_app.extensions["limiter"]
    return next(iter(limiters))


def sign_in() -> None:
    """Count one sign-in post from this address; refuse it above the limit."""
    item = parse(str(current_app.config["LOGIN_RATE_LIMIT"]))
    address = request.remote_addr or "unknown"
    strategy = limiter().limiter
    try:
        if strategy.hit(item, SCOPE, address):
            return
        reset_at = strategy.get_window_stats(item, SCOPE, address).reset_time
    except Exception:  # noqa: BLE001 — the limiter's storage (Redis) is down
        # The lockout in the database still holds every account: let the sign-in through.
        log.exception("sign-in limiter unavailable; not counting this sign-in")
        return
    raise TooManyRequests(retry_after=max(1, math.ceil(reset_at - time.time())))
