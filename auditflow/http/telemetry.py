"""Every request: its id, its one JSON log line and its Prometheus counts.

The id is the proxy's ``X-Request-ID`` when it looks like one (``logs.new_request_id``),
else a new one; it is answered in ``X-Request-ID``, shown on error pages (요청 번호) and
passed to the jobs the request queues. The line names the route's endpoint, never the
path or query, and no body, form or header. Answered probes and scrapes (health,
metrics) are logged at DEBUG only.

Counts and latencies are kept by prometheus-client; under gunicorn with several workers
``PROMETHEUS_MULTIPROC_DIR`` (``make prod`` sets it) makes them add up across workers.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

from flask import Flask, Response, g, request
from flask_login import current_user
from prometheus_client import Counter, Histogram
from sqlalchemy import inspect as sa_inspect

from auditflow import logs

log = logging.getLogger("auditflow.requests")

REQUESTS = Counter("auditflow_http_requests", "Requests answered, by endpoint and status",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("auditflow_http_request_duration_seconds",
                    "Time to answer a request, by endpoint", ["endpoint"],
                    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))

QUIET_ENDPOINTS = frozenset({"operations.healthz", "operations.readyz", "operations.metrics"})
_TOKEN = "auditflow_request_id_token"


# A client may send any method name: the label takes these, and "other" (bounded series).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _begin() -> None:
    g.request_started = time.perf_counter()
    g.request_id = logs.new_request_id(request.headers.get("X-Request-ID"))
    setattr(g, _TOKEN, logs.bind_request_id(g.request_id))


def _finish(response: Response) -> Response:
    started = g.get("request_started")
    if started is None:
        return response
    seconds = time.perf_counter() - started
    endpoint = request.endpoint or "none"
    response.headers["X-Request-ID"] = g.request_id
    method = request.method if request.method in METHODS else "other"
    REQUESTS.labels(endpoint, method, str(response.status_code)).inc()
    LATENCY.labels(endpoint).observe(seconds)
    quiet = endpoint in QUIET_ENDPOINTS and response.status_code < 400
    log.log(logging.DEBUG if quiet else logging.INFO, "request",
            extra=logs.fields(request_id=g.request_id, user_id=_user_id(),
                              method=method, endpoint=endpoint,
                              status=response.status_code,
                              duration_ms=round(seconds * 1000, 1)))
    return response


def _user_id() -> int | None:
    if request.endpoint in QUIET_ENDPOINTS:
        return None  # a probe touches no session
    try:
        user: Any = current_user
        if not user.is_authenticated:
            return None
        # Its key, without loading again a user the request's commit has expired.
        identity = sa_inspect(user._get_current_object()).identity
        return int(identity[0]) if identity else int(user.id)
    except Exception:  # noqa: BLE001 — the session's own trouble is answered elsewhere
        return None


def _end(_error: BaseException | None) -> None:
    token = g.pop(_TOKEN, None)
    if token is not None:
        # ValueError: made in another context (a streamed answer): let it be.
        with contextlib.suppress(ValueError):
            logs.unbind_request_id(token)


def init_app(app: Flask) -> None:
    # Registered first: the id exists before any other handler runs, and (after_request
    # handlers run in reverse) the line is written after every other has finished.
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request_funcs.setdefault(None, []).insert(0, _finish)
    app.teardown_request(_end)
