"""부서별 현황 (/status/teams) and the open items of every audit (/status/open).

Read-only pages for whoever may view reports (``Capability.VIEW_REPORTS``); a
department gets 403, as it may see only its own team's items. Every number is
computed by ``auditflow.reports.teams`` / ``open_items``; the views only read
the filters and render.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request, url_for

from auditflow.extensions import db
from auditflow.http.access import require
from auditflow.models import Audit
from auditflow.params import MAX_PAGE, small_int
from auditflow.permissions import Capability
from auditflow.reports.open_items import open_items
from auditflow.reports.summary import latest_audit
from auditflow.reports.teams import COUNTING_NOTE, team_status
from auditflow.web.status.forms import ALL_AUDITS, OpenItemsFilterForm, TeamsFilterForm

bp = Blueprint("status", __name__, url_prefix="/status")


@bp.get("/teams")
@require(Capability.VIEW_REPORTS)
def teams() -> Any:
    form = TeamsFilterForm(request.args)
    form.fill_choices()
    if not form.validate():
        return render_template("status/teams.html", form=form, status=None), 400
    if not form.audit.data:
        latest = latest_audit()
        form.audit.data = str(latest.id) if latest else ALL_AUDITS
    audit = None
    if form.audit.data != ALL_AUDITS:
        audit = db.session.get(Audit, int(form.audit.data)) or abort(404)
    status = team_status(audit, form.as_of.data)
    return render_template("status/teams.html", form=form, status=status, note=COUNTING_NOTE)


@bp.get("/open")
@require(Capability.VIEW_REPORTS)
def open_list() -> Any:
    form = OpenItemsFilterForm(request.args)
    form.fill_choices()
    if not form.validate():
        return render_template("status/open.html", form=form, page=None, result=None), 400
    page_arg = request.args.get("page", "")
    result = open_items(
        page=small_int(page_arg, maximum=MAX_PAGE) or 1,
        team_id=int(form.team.data) if form.team.data else None,
        audit_id=int(form.audit.data) if form.audit.data else None,
        overdue_only=form.overdue.data,
        include_supporting=form.supporting.data,
    )
    args = {"audit": form.audit.data, "team": form.team.data,
            "supporting": "1" if form.supporting.data else "",
            "overdue": "1" if form.overdue.data else ""}

    def page_url(number: int) -> str:
        return url_for("status.open_list", page=number, **{k: v for k, v in args.items() if v})

    return render_template("status/open.html", form=form, page=result, result=result,
                           page_url=page_url)
