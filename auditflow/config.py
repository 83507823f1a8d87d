"""Settings, read from ``AUDITFLOW_*`` environment variables.

Defaults are safe for production: the environment is ``production`` unless
``AUDITFLOW_ENV`` says otherwise, and production refuses to start without a
secret key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENVIRONMENTS = ("production", "development", "testing")

# argon2id (time cost, memory in KiB, lanes). Production and development use
# argon2-cffi's RFC 9106 low-memory profile (t=3, m=64 MiB, p=4), above OWASP's
# minimum (m=19 MiB, t=2, p=1); the test suite signs in hundreds of times and
# uses the cheapest parameters argon2 allows. AUDITFLOW_PASSWORD_HASH_* override.
PASSWORD_HASH_DEFAULTS = {
    "production": (3, 65536, 4),
    "development": (3, 65536, 4),
    "testing": (1, 8, 1),
}
PASSWORD_HASH_KEYS = ("PASSWORD_HASH_TIME_COST", "PASSWORD_HASH_MEMORY_KIB",
                      "PASSWORD_HASH_PARALLELISM")


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration cannot work (``code``: stable, for scripts)."""

    def __init__(self, message: str, code: str = "config_invalid") -> None:
        super().__init__(message)
        self.code = code


def _int(name: str, default: int) -> int:
    value = _optional_int(name)
    return default if value is None else value


def _optional_int(name: str) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


# Measured on 2 cores with the seed's texts: PDF 1.9 s at 30 items, 5.8 s at 120 and 17 s
# at 240; HWPX 0.4 s at 30, 1.6 s at 120, 4.2 s at 240; XLSX 0.12 s, HTML 0.02 s and CSV
# 0.01 s at 240. Below these counts a download takes about two seconds or less.
DIRECT_DOWNLOAD_DEFAULTS = {"pdf": 30, "hwpx": 60, "xlsx": 2000, "html": 2000, "csv": 2000}


def _direct_download_limits(raw: str | None) -> dict[str, int]:
    """``pdf=30,hwpx=60``: the formats named get their own limit, the others keep theirs."""
    limits = dict(DIRECT_DOWNLOAD_DEFAULTS)
    for part in (raw or "").split(","):
        if not part.strip():
            continue
        fmt, _, count = part.partition("=")
        fmt = fmt.strip()
        if fmt not in limits or not count.strip().isdigit():
            raise ConfigError("AUDITFLOW_DIRECT_DOWNLOAD_MAX_ITEMS must read like "
                              f"'pdf=30,hwpx=60' (formats: {', '.join(limits)}), got {raw!r}")
        limits[fmt] = int(count)
    return limits


def from_environment(instance_path: str) -> dict[str, Any]:
    env = os.environ.get("AUDITFLOW_ENV", "production")
    instance = Path(instance_path)
    return {
        "AUDITFLOW_ENV": env,
        "SECRET_KEY": os.environ.get("AUDITFLOW_SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": os.environ.get(
            "AUDITFLOW_DATABASE_URL", f"sqlite:///{instance / 'auditflow.db'}"
        ),
        "STORAGE_DIR": os.environ.get("AUDITFLOW_STORAGE_DIR", str(instance / "evidence")),
        # Stored files in an S3-compatible object store (s3://bucket/prefix) instead of the
        # folder, for several machines; STORAGE_DIR then holds only this machine's temp files.
        "STORAGE_URL": os.environ.get("AUDITFLOW_STORAGE_URL") or None,
        "S3_ENDPOINT_URL": os.environ.get("AUDITFLOW_S3_ENDPOINT_URL") or None,
        "S3_ACCESS_KEY_ID": os.environ.get("AUDITFLOW_S3_ACCESS_KEY_ID") or None,
        "S3_SECRET_ACCESS_KEY": os.environ.get("AUDITFLOW_S3_SECRET_ACCESS_KEY") or None,
        "S3_REGION": os.environ.get("AUDITFLOW_S3_REGION") or None,
        "MAX_UPLOAD_MB": _int("AUDITFLOW_MAX_UPLOAD_MB", 50),
        "MAX_EXPANDED_MB": _int("AUDITFLOW_MAX_EXPANDED_MB", 200),
        "TIMEZONE": os.environ.get("AUDITFLOW_TIMEZONE", "Asia/Seoul"),
        "DEMO_PASSWORD": os.environ.get("AUDITFLOW_DEMO_PASSWORD"),
        "SESSION_IDLE_MINUTES": _int("AUDITFLOW_SESSION_IDLE_MINUTES", 30),
        "SESSION_MAX_HOURS": _int("AUDITFLOW_SESSION_MAX_HOURS", 12),
        "SESSION_COOKIE_SECURE": _bool("AUDITFLOW_SECURE_COOKIES", False),
        "LOGIN_MAX_FAILURES": _int("AUDITFLOW_LOGIN_MAX_FAILURES", 5),
        "LOGIN_LOCK_MINUTES": _int("AUDITFLOW_LOGIN_LOCK_MINUTES", 15),
        # The second factor (TOTP) for whoever administers users or reviews results
        # (permissions.needs_second_factor). None: on in production, off elsewhere (``finalise``).
        "REQUIRE_SECOND_FACTOR": (_bool("AUDITFLOW_REQUIRE_SECOND_FACTOR", False)
                                  if os.environ.get("AUDITFLOW_REQUIRE_SECOND_FACTOR") else None),
        # The name authenticator apps show beside the code.
        "SECOND_FACTOR_ISSUER": os.environ.get("AUDITFLOW_SECOND_FACTOR_ISSUER") or "auditflow",
        # User administration and 발행 ask for the password again after this many minutes.
        "REAUTH_MINUTES": _int("AUDITFLOW_REAUTH_MINUTES", 10),
        # Past LOGIN_MAX_FAILURES wrong passwords from everywhere, each check of the login
        # waits 1, 2, 4 … seconds, at most this long (the owner's own address does not).
        "LOGIN_DELAY_MAX_SECONDS": _int("AUDITFLOW_LOGIN_DELAY_MAX_SECONDS", 60),
        # Sign-in posts per address (Flask-Limiter notation; the API's limiter storage).
        "LOGIN_RATE_LIMIT": os.environ.get("AUDITFLOW_LOGIN_RATE_LIMIT") or "30 per minute",
        # Password checks at once per process; a sign-in waits this long for one, then 429.
        "PASSWORD_HASH_CONCURRENCY": _int("AUDITFLOW_PASSWORD_HASH_CONCURRENCY", 2),
        "PASSWORD_HASH_WAIT_SECONDS": _int("AUDITFLOW_PASSWORD_HASH_WAIT_SECONDS", 3),
        # Files per upload: with MAX_UPLOAD_MB it bounds the whole body (MAX_CONTENT_LENGTH).
        "MAX_UPLOAD_FILES": _int("AUDITFLOW_MAX_UPLOAD_FILES", 20),
        # The body a request may send before it is known to be signed in with a form token.
        "MAX_ANONYMOUS_BODY_KB": _int("AUDITFLOW_MAX_ANONYMOUS_BODY_KB", 64),
        "SQLITE_BUSY_TIMEOUT_MS": _int("AUDITFLOW_SQLITE_BUSY_TIMEOUT_MS", 15000),
        # PostgreSQL: a pooled connection unused this long is pinged before a request gets it
        # (auditflow.db.ping_after_idle); 0 pings every one.
        "DATABASE_PING_AFTER_IDLE_SECONDS": _int("AUDITFLOW_DATABASE_PING_AFTER_IDLE_SECONDS", 10),
        # Links in e-mails point here (the address people open the product at).
        "BASE_URL": os.environ.get("AUDITFLOW_BASE_URL", "http://127.0.0.1:5000"),
        # The host names this service answers to (Flask refuses others with 400, so no
        # redirect or link is built from a foreign Host header). Unset: any host.
        "TRUSTED_HOSTS": [host.strip() for host in
                          os.environ.get("AUDITFLOW_TRUSTED_HOSTS", "").split(",")
                          if host.strip()] or None,
        # Reverse proxies in front that set X-Forwarded-For and -Proto (nginx: 1). The
        # address of a request, which the sign-in locks and limits count by, is then the
        # client's as the nearest proxy saw it; 0: the connection's own address.
        "PROXY_HOPS": _int("AUDITFLOW_PROXY_HOPS", 0),
        # Background jobs: Huey on a SQLite file in the instance folder, or Redis when set.
        "QUEUE_URL": os.environ.get("AUDITFLOW_QUEUE_URL") or None,
        "QUEUE_PATH": os.environ.get("AUDITFLOW_QUEUE_PATH", str(instance / "queue.db")),
        "REMINDER_HOUR": _int("AUDITFLOW_REMINDER_HOUR", 8),
        "ESCALATE_AFTER_DAYS": _int("AUDITFLOW_ESCALATE_AFTER_DAYS", 7),
        # E-mail: without a host notifications stay in the app.
        "SMTP_HOST": os.environ.get("AUDITFLOW_SMTP_HOST") or None,
        "SMTP_PORT": _int("AUDITFLOW_SMTP_PORT", 25),
        "SMTP_USER": os.environ.get("AUDITFLOW_SMTP_USER") or None,
        "SMTP_PASSWORD": os.environ.get("AUDITFLOW_SMTP_PASSWORD") or None,
        "SMTP_STARTTLS": _bool("AUDITFLOW_SMTP_STARTTLS", False),
        "SMTP_TIMEOUT": _int("AUDITFLOW_SMTP_TIMEOUT", 20),
        "MAIL_FROM": os.environ.get("AUDITFLOW_MAIL_FROM", "auditflow@localhost"),
        # A failed send is tried again after 30 s, then 1, 2, 4 … minutes, 8 tries in all.
        "MAIL_RETRY_DELAY": _int("AUDITFLOW_MAIL_RETRY_DELAY", 30),
        "MAIL_MAX_ATTEMPTS": _int("AUDITFLOW_MAIL_MAX_ATTEMPTS", 8),
        # 발행 and large downloads, made by the worker (services.report_jobs): a running
        # job writes a sign of life every few seconds; one silent for REPORT_JOB_STALE_SECONDS
        # is taken again (REPORT_JOB_MAX_ATTEMPTS in all) or failed; none runs longer than
        # REPORT_JOB_TIMEOUT_MINUTES. A download's file is kept REPORT_DOWNLOAD_KEEP_HOURS.
        "REPORT_JOB_HEARTBEAT_SECONDS": _int("AUDITFLOW_REPORT_JOB_HEARTBEAT_SECONDS", 5),
        "REPORT_JOB_STALE_SECONDS": _int("AUDITFLOW_REPORT_JOB_STALE_SECONDS", 60),
        "REPORT_JOB_MAX_ATTEMPTS": _int("AUDITFLOW_REPORT_JOB_MAX_ATTEMPTS", 2),
        "REPORT_JOB_TIMEOUT_MINUTES": _int("AUDITFLOW_REPORT_JOB_TIMEOUT_MINUTES", 30),
        "REPORT_DOWNLOAD_KEEP_HOURS": _int("AUDITFLOW_REPORT_DOWNLOAD_KEEP_HOURS", 24),
        # A download of a report with more items than this (per format) is made by the worker.
        "DIRECT_DOWNLOAD_MAX_ITEMS": _direct_download_limits(
            os.environ.get("AUDITFLOW_DIRECT_DOWNLOAD_MAX_ITEMS")),
        # The JSON API: bodies, personal access tokens, requests per token (Flask-Limiter;
        # Redis when a limiter URL or the queue's Redis is set, else each process's memory).
        "MAX_JSON_KB": _int("AUDITFLOW_MAX_JSON_KB", 256),
        "API_TOKEN_DAYS": _int("AUDITFLOW_API_TOKEN_DAYS", 90),
        "API_RATE_LIMIT": os.environ.get("AUDITFLOW_API_RATE_LIMIT") or "300 per minute",
        "RATE_LIMIT_URL": os.environ.get("AUDITFLOW_RATE_LIMIT_URL") or None,
        # The access log (접속기록): kept this long (at least a year, 개인정보의 안전성 확보조치
        # 기준 제8조; two for large or sensitive systems), and a reason asked for the first
        # evidence download of a session.
        "ACCESS_LOG_RETENTION_DAYS": _int("AUDITFLOW_ACCESS_LOG_RETENTION_DAYS", 730),
        "ACCESS_DOWNLOAD_REASON": _bool("AUDITFLOW_ACCESS_DOWNLOAD_REASON", True),
        # Production operation (README, Production): the machines that run this service
        # on one database (SQLite is refused when more than one), the logs' format (None:
        # json in production, text elsewhere) and level, and who may read GET /metrics: a
        # bearer token, or addresses and networks (comma-separated); neither: no metrics.
        "MACHINES": _int("AUDITFLOW_MACHINES", 1),
        "LOG_FORMAT": os.environ.get("AUDITFLOW_LOG_FORMAT") or None,
        "LOG_LEVEL": (os.environ.get("AUDITFLOW_LOG_LEVEL") or "").upper() or None,
        "METRICS_TOKEN": os.environ.get("AUDITFLOW_METRICS_TOKEN") or None,
        "METRICS_ALLOW": [part.strip() for part in
                          os.environ.get("AUDITFLOW_METRICS_ALLOW", "").split(",")
                          if part.strip()],
        # None: the environment's default, filled in by ``finalise``.
        **{key: _optional_int(f"AUDITFLOW_{key}") for key in PASSWORD_HASH_KEYS},
    }


def finalise(config: dict[str, Any], overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    if overrides:
        config.update(overrides)
    env = config["AUDITFLOW_ENV"]
    if env not in ENVIRONMENTS:
        raise ConfigError(f"AUDITFLOW_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    if not config.get("SECRET_KEY"):
        if env == "production":
            raise ConfigError(
                "AUDITFLOW_SECRET_KEY가 설정되지 않았습니다 / AUDITFLOW_SECRET_KEY is not set. "
                "Production needs a long random secret, "
                "e.g. python -c 'import secrets; print(secrets.token_hex(32))'. "
                "For a development machine set AUDITFLOW_ENV=development.",
                "secret_key_missing")
        config["SECRET_KEY"] = "dev-only-not-secret"
    config["TESTING"] = env == "testing" or bool(config.get("TESTING"))
    if config.get("STORAGE_URL") and not str(config["STORAGE_URL"]).startswith("s3://"):
        raise ConfigError("AUDITFLOW_STORAGE_URL must read like s3://bucket/prefix (unset: "
                          f"the folder AUDITFLOW_STORAGE_DIR), got {config['STORAGE_URL']!r}")
    # The whole body: every file of one upload at its limit, and 1 MiB for the form's fields.
    # (Each file is also limited while it streams, web/evidence/uploads.py.) Form fields
    # without a file are kept in memory up to MAX_FORM_MEMORY_SIZE, in at most
    # MAX_FORM_PARTS parts.
    config["MAX_CONTENT_LENGTH"] = (
        int(config["MAX_UPLOAD_MB"]) * int(config["MAX_UPLOAD_FILES"]) + 1) * 1024 * 1024
    config.setdefault("MAX_FORM_MEMORY_SIZE", 1024 * 1024)
    config.setdefault("MAX_FORM_PARTS", 1000)
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if config.get("REQUIRE_SECOND_FACTOR") is None:
        config["REQUIRE_SECOND_FACTOR"] = env == "production"
    for key, default in zip(PASSWORD_HASH_KEYS, PASSWORD_HASH_DEFAULTS[env], strict=True):
        if config.get(key) is None:
            config[key] = default
    if config["PASSWORD_HASH_MEMORY_KIB"] < 8 * config["PASSWORD_HASH_PARALLELISM"]:
        raise ConfigError("PASSWORD_HASH_MEMORY_KIB must be at least 8 × PASSWORD_HASH_PARALLELISM")
    if not isinstance(config.get("REMINDER_HOUR"), int) or not 0 <= config["REMINDER_HOUR"] <= 23:
        raise ConfigError(f"REMINDER_HOUR must be an hour 0-23, got {config.get('REMINDER_HOUR')!r}")
    machines = config.get("MACHINES", 1)
    if not isinstance(machines, int) or machines < 1:
        raise ConfigError(f"AUDITFLOW_MACHINES must be a whole number of at least 1, got {machines!r}")
    if (env == "production" and machines > 1
            and str(config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite")):
        raise ConfigError(
            f"SQLite는 한 대의 서버에서만 쓸 수 있습니다 (AUDITFLOW_MACHINES={machines}) / "
            "SQLite serves one machine only: set AUDITFLOW_DATABASE_URL to PostgreSQL "
            "(postgresql+psycopg://…), or AUDITFLOW_MACHINES=1.", "sqlite_many_machines")
    if config.get("LOG_FORMAT") is None:
        config["LOG_FORMAT"] = "json" if env == "production" else "text"
    if config["LOG_FORMAT"] not in ("json", "text"):
        raise ConfigError(f"AUDITFLOW_LOG_FORMAT must be json or text, got {config['LOG_FORMAT']!r}")
    if config.get("LOG_LEVEL") is None:
        config["LOG_LEVEL"] = "INFO" if env == "production" else "WARNING"
    if config["LOG_LEVEL"] not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError("AUDITFLOW_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, "
                          f"got {config.get('LOG_LEVEL')!r}")
    queue_url = config.get("QUEUE_URL")
    if queue_url and not str(queue_url).startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"AUDITFLOW_QUEUE_URL must be a redis:// URL, got {queue_url!r}")
    for key in ("SESSION_IDLE_MINUTES", "SESSION_MAX_HOURS", "LOGIN_MAX_FAILURES",
                "LOGIN_LOCK_MINUTES", "ESCALATE_AFTER_DAYS", "SMTP_PORT", "SMTP_TIMEOUT",
                "REPORT_JOB_MAX_ATTEMPTS", "REPORT_JOB_TIMEOUT_MINUTES",
                "REPORT_DOWNLOAD_KEEP_HOURS", "MAX_JSON_KB", "API_TOKEN_DAYS", "REAUTH_MINUTES",
                "LOGIN_DELAY_MAX_SECONDS", "PASSWORD_HASH_CONCURRENCY",
                "MAX_UPLOAD_MB", "MAX_UPLOAD_FILES", "MAX_ANONYMOUS_BODY_KB",
                *PASSWORD_HASH_KEYS):
        if not isinstance(config.get(key), int) or config[key] < 1:
            raise ConfigError(f"{key} must be a whole number of at least 1, got {config.get(key)!r}")
    retention = config.get("ACCESS_LOG_RETENTION_DAYS")
    if not isinstance(retention, int) or retention < 365:
        raise ConfigError("ACCESS_LOG_RETENTION_DAYS must be at least 365 (access records are "
                          f"kept at least a year), got {retention!r}")
    # Seconds; tests give fractions.
    for key in ("REPORT_JOB_HEARTBEAT_SECONDS", "REPORT_JOB_STALE_SECONDS",
                "PASSWORD_HASH_WAIT_SECONDS"):
        if not isinstance(config.get(key), int | float) or config[key] <= 0:
            raise ConfigError(f"{key} must be a number of seconds above 0, got {config.get(key)!r}")
    if config["REPORT_JOB_STALE_SECONDS"] <= 2 * config["REPORT_JOB_HEARTBEAT_SECONDS"]:
        raise ConfigError("REPORT_JOB_STALE_SECONDS must be more than twice "
                          "REPORT_JOB_HEARTBEAT_SECONDS (a live job would look dead)")
    return config
