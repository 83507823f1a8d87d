"""gunicorn for auditflow, behind nginx (deploy/nginx-auditflow.conf; README, Production).

    gunicorn -c deploy/gunicorn.conf.py 'auditflow:create_app()'

Threads per worker: a burst of sign-ins holds at most AUDITFLOW_PASSWORD_HASH_CONCURRENCY
threads of a worker hashing, the others keep answering pages. gunicorn listens on the
loopback only: nginx reads each request whole (with its own timeouts) before handing
it over, so no slow client ever holds a thread here.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))

# A worker silent this long is killed and replaced; a request may not take longer (large
# reports are made by the background worker, not in a request).
timeout = 60
graceful_timeout = 30
# An idle kept-alive connection from nginx is closed after this many seconds.
keepalive = 5
# Request line and headers: gunicorn's own limits, stated.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
# A worker is replaced now and then, so no slow leak grows without bound.
max_requests = 2000
max_requests_jitter = 200

accesslog = "-"
errorlog = "-"
# The proxy is on this machine: trust its X-Forwarded-* (the app's AUDITFLOW_PROXY_HOPS=1).
forwarded_allow_ips = "127.0.0.1"
