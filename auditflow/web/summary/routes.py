from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, render_template, request

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Audit
from auditflow.reports.summary import latest_audit, summarize
from auditflow.reports.summary_formats import table

bp = Blueprint("summary", __name__)


@bp.get("/summary")
def index():
    audit_id = request.args.get("audit", type=int)
    audit = db.session.get(Audit, audit_id) if audit_id else latest_audit()
    if audit is None:
        return render_template("summary/index.html", summary=None, rows=None)
    as_of = _parse_date(request.args.get("as_of"))
    summary = summarize(audit, as_of)
    return render_template(
        "summary/index.html", summary=summary, rows=table(summary), short=dates.short
    )


def _parse_date(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, "날짜는 YYYY-MM-DD 형식으로 입력하세요.")
