"""Security headers on every response, pages, JSON, errors and files alike."""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response, request
from flask_login import current_user

# Only our own origin; no inline script or style anywhere (JS and CSS live in
# static files), so a text that slipped through escaping still cannot run.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # No page needs the camera, microphone, location or payments.
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
# Over HTTPS only (secure cookies on): browsers then refuse plain HTTP for a year.
HSTS = "max-age=31536000; includeSubDomains"


_STYLE_ELEMENT = re.compile(r"<style[^>]*>(.*?)</style>", re.S)


def policy_for_own_styles(document: str) -> str:
    """The policy, letting through exactly the ``<style>`` elements of ``document`` (by their
    SHA-256): for the report's own HTML, which carries its stylesheet inside it."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'"
        for css in _STYLE_ELEMENT.findall(document))
    return CONTENT_SECURITY_POLICY.replace("style-src 'self'", f"style-src 'self' {hashes}")


def register(app: Flask) -> None:
    @app.after_request
    def _security_headers(response: Response) -> Response:
        # setdefault: a view that needs a stricter policy (evidence downloads
        # answer "Content-Security-Policy: sandbox") keeps its own.
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        # What a signed-in user sees (and any JSON) stays out of shared and back-button caches;
        # the design system's files may be cached.
        cache = response.headers.get("Cache-Control", "")
        if "no-store" not in cache and not _is_asset(request.endpoint) and (
                current_user.is_authenticated or response.mimetype == "application/json"):
            response.headers["Cache-Control"] = f"{cache}, no-store" if cache else "no-store"
        return response


def _is_asset(endpoint: str | None) -> bool:
    return endpoint is not None and (endpoint == "static" or endpoint.endswith(".static"))
