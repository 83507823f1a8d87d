"""gunicorn for auditflow, behind nginx (deploy/nginx-auditflow.conf; README, Production).

    gunicorn -c deploy/gunicorn.conf.py 'auditflow:create_app()'     # or: make prod

Settings (environment): ``HOST`` and ``PORT`` (or ``GUNICORN_BIND``), ``AUDITFLOW_WEB_WORKERS``
(processes; default: the machine's cores), ``AUDITFLOW_WEB_THREADS`` (threads per process,
default 8), ``AUDITFLOW_WEB_TIMEOUT`` (seconds, default 60).

Threads per worker: a burst of sign-ins holds at most AUDITFLOW_PASSWORD_HASH_CONCURRENCY
threads of a worker hashing, the others keep answering pages. gunicorn listens on the
loopback only: nginx reads each request whole (with its own timeouts) before handing
it over, so no slow client ever holds a thread here.

Start-up refuses production without a secret key, with SQLite on more than one machine
(``config.finalise``) or with demo accounts (``flask production check``): ``on_starting``
makes the application once in the master and stops with the reason and its code.

The access log is the application's own: one JSON line per request (``http.telemetry``),
so gunicorn's is off; gunicorn's error log is JSON too.
"""

import multiprocessing
import os
import shutil
import sys

_cores = multiprocessing.cpu_count()

bind = os.environ.get("GUNICORN_BIND") or (
    f"{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or '8000'}")
workers = int(os.environ.get("AUDITFLOW_WEB_WORKERS") or os.environ.get("GUNICORN_WORKERS")
              or _cores)
worker_class = "gthread"
threads = int(os.environ.get("AUDITFLOW_WEB_THREADS") or os.environ.get("GUNICORN_THREADS")
              or 8)

# A worker silent this long is killed and replaced; a request may not take longer (large
# reports are made by the background worker, not in a request).
timeout = int(os.environ.get("AUDITFLOW_WEB_TIMEOUT") or 60)
graceful_timeout = 30
# An idle kept-alive connection from nginx is closed after this many seconds.
keepalive = 5
# Request line and headers: gunicorn's own limits, stated.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
# A worker is replaced now and then, so no slow leak grows without bound
# (``AUDITFLOW_WEB_MAX_REQUESTS``; 0: never, as the endurance benchmark runs to see a leak).
max_requests = int(os.environ.get("AUDITFLOW_WEB_MAX_REQUESTS") or 2000)
max_requests_jitter = max_requests // 10

accesslog = None  # the application writes one JSON line per request
errorlog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "auditflow.logs.json_formatter"}},
    # gunicorn's own names, so that its defaults (the root logger's "console") find them.
    "handlers": {name: {"class": "logging.StreamHandler", "formatter": "json",
                        "stream": "ext://sys.stderr"} for name in ("console", "error_console")},
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["error_console"],
                                   "propagate": False},
                # /readyz asks Alembic for the head: its chatter is not news.
                "alembic": {"level": "WARNING"}},
}
# No control socket (gunicorn 25: $HOME/.gunicorn/gunicorn.ctl, one per user, so two servers
# of one user would share it); systemd and signals manage the server.
control_socket_disable = True
# The proxy is on this machine: trust its X-Forwarded-* (the app's AUDITFLOW_PROXY_HOPS=1).
forwarded_allow_ips = "127.0.0.1"


def on_starting(server):  # noqa: ARG001 — gunicorn's hook
    """Refuse to start what production must not run; clear the metrics of earlier runs."""
    from auditflow import create_app
    from auditflow.cli.production import refusals
    from auditflow.config import ConfigError

    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:  # counts of processes of an earlier run would be added to this one's
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, exist_ok=True)
    try:
        app = create_app()
    except ConfigError as refused:
        sys.stderr.write(f"오류 [{refused.code}]: {refused}\n")
        sys.exit(1)
    found = refusals(app)
    with app.app_context():
        from auditflow.extensions import db

        db.engine.dispose()  # the workers open their own connections
    for refusal in found:
        sys.stderr.write(f"오류 [{refusal.code}]: {refusal.message}\n")
    if found:
        sys.exit(1)


def post_worker_init(worker):
    """The application's logs, as its settings say (one JSON line per request)."""
    from auditflow import logs

    logs.configure_for(worker.wsgi.config)


def child_exit(server, worker):  # noqa: ARG001 — gunicorn's hook
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
