"""Health and metrics, for the load balancer and Prometheus.

``/healthz`` (liveness) answers whenever the process does; ``/readyz`` (readiness) checks
each dependency and names it with ``ok`` or ``fail``, nothing more (no versions, no
addresses, no error text: those go to the log), 503 when one fails. Neither needs a
sign-in, reads a session or writes anything.

``/metrics`` is Prometheus' text format, for whoever ``AUDITFLOW_METRICS_TOKEN`` (a bearer
token) or ``AUDITFLOW_METRICS_ALLOW`` (addresses or networks) lets in: 404 when neither is
set, 403 for anyone else. Request counts and latencies come from ``http.telemetry`` (summed
over gunicorn's workers through ``PROMETHEUS_MULTIPROC_DIR``); open items by state, the
queue's length, failed jobs and failed sign-ins are counted by queries at each scrape.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from auditflow.extensions import db
from auditflow.jobs import jobs
from auditflow.services import operations
from auditflow.storage.backend import KEY_BYTES
from auditflow.storage.transactional import file_store

bp = Blueprint("operations", __name__)
log = logging.getLogger("auditflow.operations")

_HEADS: dict[str, frozenset[str]] = {}


@bp.get("/healthz")
def healthz() -> Response:
    return _no_store(jsonify(status="ok"))


@bp.get("/readyz")
def readyz() -> Response:
    checks = {name: _run(name, check) for name, check in (
        ("database", _database), ("migrations", _migrations),
        ("storage", _storage), ("queue", _queue))}
    ready = all(result == "ok" for result in checks.values())
    response = jsonify(status="ok" if ready else "fail", checks=checks)
    response.status_code = 200 if ready else 503
    return _no_store(response)


def _run(name: str, check: Callable[[], bool]) -> str:
    try:
        return "ok" if check() else "fail"
    except Exception:  # noqa: BLE001 — the reason goes to the log, never to the answer
        log.warning("readiness check %s failed", name, exc_info=True)
        return "fail"


def _database() -> bool:
    with db.engine.connect() as connection:
        return bool(connection.exec_driver_sql("SELECT 1").scalar() == 1)


def _migrations() -> bool:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as connection:
        current = frozenset(MigrationContext.configure(connection).get_current_heads())
    return current == _script_heads()


def _script_heads() -> frozenset[str]:
    directory = current_app.extensions["migrate"].directory
    if directory not in _HEADS:  # the files do not change while the process runs
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", directory)
        _HEADS[directory] = frozenset(ScriptDirectory.from_config(config).get_heads())
    return _HEADS[directory]


def _storage() -> bool:
    # The folder uploads land in first (with an object store, this machine's temp files)...
    folder = current_app.config["STORAGE_DIR"]
    os.makedirs(folder, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".ready-") as probe:
        probe.write(b"ok")
        probe.flush()
    # ...and the store answers (a folder, or the object store's bucket): a key nobody has.
    file_store().exists("0" * (2 * KEY_BYTES))
    return True


def _queue() -> bool:
    jobs().huey.pending_count()
    return True


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


# ─── metrics ─────────────────────────────────────────────────────────────────


@bp.get("/metrics")
def metrics() -> Response:
    _admit()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        counted = generate_latest(registry)
    else:
        counted = generate_latest(REGISTRY)
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_Measured(_measure()))
    return _no_store(Response(counted + generate_latest(scrape),
                              mimetype="text/plain; version=0.0.4"))


def _admit() -> None:
    token = current_app.config.get("METRICS_TOKEN")
    allowed = current_app.config.get("METRICS_ALLOW") or []
    if not token and not allowed:
        abort(404)
    if token:
        offered = request.headers.get("Authorization", "")
        scheme, _, secret = offered.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(secret.strip().encode(),
                                                              str(token).encode()):
            return
    if allowed and _address_allowed(request.remote_addr, allowed):
        return
    abort(403)


def _address_allowed(address: str | None, allowed: list[str]) -> bool:
    if not address:
        return False
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in allowed:
        try:
            if client in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            log.warning("AUDITFLOW_METRICS_ALLOW has an entry that is no address: %r", entry)
    return False


def _measure() -> dict[str, Any]:
    values: dict[str, Any] = {
        "open_items": operations.open_items_by_state(),
        "failed_jobs": operations.failed_jobs(),
        "sign_in_failures": operations.sign_in_failures(),
    }
    try:
        values["queue_length"] = jobs().huey.pending_count()
    except Exception:  # noqa: BLE001 — the queue is down: its length is not known
        log.warning("queue length not read for /metrics", exc_info=True)
    return values


class _Measured(Collector):
    """The numbers of one scrape, counted by queries just before (``_measure``)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def collect(self) -> Iterator[Metric]:
        items = GaugeMetricFamily("auditflow_open_items", "Open recommendations, by state",
                                  labels=["state"])
        for state, count in self.values["open_items"].items():
            items.add_metric([state], count)
        yield items
        failed = GaugeMetricFamily("auditflow_jobs_failed",
                                   "Jobs failed for good (e-mails given up, report jobs failed)",
                                   labels=["job"])
        for job, count in self.values["failed_jobs"].items():
            failed.add_metric([job], count)
        yield failed
        yield GaugeMetricFamily("auditflow_sign_in_failures",
                                "Failed sign-ins kept in the access log",
                                value=self.values["sign_in_failures"])
        up = "queue_length" in self.values
        yield GaugeMetricFamily("auditflow_queue_up", "1 when the queue answered", value=int(up))
        if up:
            yield GaugeMetricFamily("auditflow_queue_length", "Tasks waiting in the queue",
                                    value=self.values["queue_length"])
