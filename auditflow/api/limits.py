"""Requests per caller under /api (Flask-Limiter): per token, else per signed-in session,
else per address. Redis keeps the counts when a limiter URL or the queue's Redis is set,
so that every web process counts together; otherwise each process counts in memory."""

from __future__ import annotations

import hashlib

from flask import Flask, current_app, request, session
from flask_limiter import Limiter

from auditflow.http.errors import wants_json
from auditflow.http.tokens import bearer_secret


def caller() -> str:
    secret = bearer_secret()
    if secret:
        return "token:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:32]
    user = session.get("_user_id")
    if user:
        return "session:" + hashlib.sha256(str(user).encode("utf-8")).hexdigest()[:32]
    return "address:" + (request.remote_addr or "unknown")


def _limit() -> str:
    return str(current_app.config["API_RATE_LIMIT"])


def storage_uri(app: Flask) -> str:
    return str(app.config.get("RATE_LIMIT_URL") or app.config.get("QUEUE_URL") or "memory://")


def init_limiter(app: Flask) -> Limiter:
    # One limiter per application: its counts and settings belong to that application.
    limiter = Limiter(
        caller,
        app=app,
        storage_uri=storage_uri(app),
        default_limits=[_limit],
        default_limits_exempt_when=lambda: not wants_json(),
        headers_enabled=True,
        strategy="fixed-window",
    )
    return limiter
