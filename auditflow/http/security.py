"""Security headers on every response, pages, JSON, errors and files alike."""

from __future__ import annotations

from flask import Flask, Response

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
}


def register(app: Flask) -> None:
    @app.after_request
    def _security_headers(response: Response) -> Response:
        # setdefault: a view that needs a stricter policy (evidence downloads
        # answer "Content-Security-Policy: sandbox") keeps its own.
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
