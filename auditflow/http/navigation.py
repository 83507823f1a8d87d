"""Where a user goes back to: after signing in, after a refused form post.

Only a path of this site is ever a target, never another host (an open
redirect) and never the sign-in page itself.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request, url_for


def return_path() -> str | None:
    """Where to come back to after signing in: this page, or for a form post the page it was on.

    A post cannot be repeated after sign-in (its token belonged to the old session),
    but the page the form was on can be shown again, with the draft the browser kept
    (``app.js``). Only a page of this site counts (the referrer's host is ours).
    """
    if request.method == "GET":
        target = request.full_path.rstrip("?")
    else:
        referrer = urlsplit(request.referrer or "")
        if referrer.netloc != request.host or referrer.scheme not in ("http", "https"):
            return None
        target = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    safe = safe_next(target, "")
    return safe or None


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: never another host (an open redirect), never back to sign-in."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or any(ord(c) < 32 for c in target):
        return default
    if parts.path in (url_for("auth.login"), url_for("auth.logout")):
        return default
    return target
