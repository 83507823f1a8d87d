"""The first two endpoints' old paths: a permanent redirect (308 keeps the method and body)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request

bp = Blueprint("api", __name__, url_prefix="/api")


def _to_v1(path: str) -> Any:
    query = request.query_string.decode("latin-1")
    return redirect(f"/api/v1{path}" + (f"?{query}" if query else ""), code=308)


@bp.get("/recommendations/<int:recommendation_id>")
def recommendation(recommendation_id: int) -> Any:
    return _to_v1(f"/recommendations/{recommendation_id}")


@bp.post("/recommendations/<int:recommendation_id>/actions/<trigger>")
def action(recommendation_id: int, trigger: str) -> Any:
    return _to_v1(f"/recommendations/{recommendation_id}/actions/{trigger}")
