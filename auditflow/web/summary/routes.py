"""처리결과 총괄 (/summary): the report on screen, its downloads, and issued versions (발행).

Whoever may view reports (``Capability.VIEW_REPORTS``) sees the page and
downloads; departments get 403 (they see only their own items). Issuing needs
``Capability.ISSUE_REPORTS``. Every number comes from the report model (``auditflow.reports.content``),
whose table is the summary engine's.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from auditflow import dates
from auditflow.errors import DomainError
from auditflow.extensions import db
from auditflow.http.access import actor, require, viewer
from auditflow.http.errors import return_to
from auditflow.models import Audit
from auditflow.permissions import Capability
from auditflow.reports import FORMAT_LABELS, FORMATS, available_formats, writer
from auditflow.reports.content import CONTENT_TYPES, build_report
from auditflow.reports.summary import latest_audit
from auditflow.services.issuing import edition_label, issue, issued_file, issued_versions
from auditflow.storage import content_disposition
from auditflow.web.summary.forms import IssueForm, SummaryFilterForm

bp = Blueprint("summary", __name__)


@bp.get("/summary")
@require(Capability.VIEW_REPORTS)
def index() -> Any:
    form = SummaryFilterForm(request.args)
    form.fill_choices()
    if not form.validate():
        return render_template("summary/index.html", form=form, report=None), 400
    audit = _audit_from(form.audit.data)
    if audit is None:
        return render_template("summary/index.html", form=form, report=None)
    form.audit.data = str(audit.id)
    as_of = form.as_of.data or dates.today()
    if as_of > dates.today():
        form.as_of.errors = ["기준일은 오늘 이후일 수 없습니다."]
        return render_template("summary/index.html", form=form, report=None), 400
    form.as_of.data = as_of
    # On unless the page's own form was sent with the box cleared.
    include = bool(form.due_changes.data) if request.args.get("chosen") else True
    form.due_changes.data = include
    issue_form = IssueForm(data={"as_of": as_of, "due_changes": "1" if include else "0"})
    return render_template(
        "summary/index.html",
        form=form,
        due_changes="1" if include else "0",
        report=build_report(audit, as_of, include_due_changes=include),
        formats=[(fmt, FORMAT_LABELS[fmt]) for fmt in available_formats()],
        missing_formats=[FORMAT_LABELS[fmt] for fmt in FORMATS if fmt not in available_formats()],
        issued=issued_versions(audit),
        issue_form=issue_form if viewer().can(Capability.ISSUE_REPORTS) else None,
        edition_label=edition_label,
    )


@bp.get("/summary/<int:audit_id>/report.<fmt>")
@require(Capability.VIEW_REPORTS)
def download(audit_id: int, fmt: str) -> Response:
    audit = db.session.get(Audit, audit_id) or abort(404)
    as_of = _date_arg("as_of") or dates.today()
    if as_of > dates.today():
        raise DomainError("기준일은 오늘 이후일 수 없습니다.", code="as_of_in_future")
    write = writer(fmt)  # FormatUnavailable: 404 with its Korean message
    report = build_report(audit, as_of, include_due_changes=request.args.get("due_changes") != "0")
    with tempfile.TemporaryDirectory(prefix="auditflow-report-") as folder:
        path = Path(folder) / f"report.{fmt}"
        write(report, path)
        data = path.read_bytes()
    response = Response(data, content_type=CONTENT_TYPES[fmt])
    response.headers["Content-Disposition"] = content_disposition(report.file_name(fmt))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/summary/<int:audit_id>/issue")
@require(Capability.ISSUE_REPORTS)
def issue_report(audit_id: int) -> Any:
    audit = db.session.get(Audit, audit_id) or abort(404)
    form = IssueForm()
    as_of = form.as_of.data if isinstance(form.as_of.data, date) else None
    where: dict[str, Any] = {"audit": audit.id, **({"as_of": as_of.isoformat()} if as_of else {})}
    back = url_for(".index", **where)
    return_to(back)  # a refusal goes back to the page with its message, nothing kept
    if not form.validate_on_submit():
        message = " ".join(error for errors in form.errors.values() for error in errors)
        raise DomainError(message or "발행할 수 없습니다.", code="issue_invalid")
    result = issue(audit, form.as_of.data, actor(),
                   include_due_changes=form.due_changes.data != "0")
    issued = result.issued
    flash(f"{edition_label(issued)}을 발행했습니다 ({dates.short(issued.as_of)} 기준, "
          f"파일 {len(issued.files)}개).", "success")
    if result.missing:
        labels = ", ".join(FORMAT_LABELS[fmt] for fmt in result.missing)
        flash(f"{labels} 형식은 아직 만들 수 없어 이번 판에 넣지 못했습니다.", "warning")
    return redirect(back, code=303)


@bp.get("/summary/<int:audit_id>/issued/<int:issued_id>/<fmt>")
@require(Capability.VIEW_REPORTS)
def issued_download(audit_id: int, issued_id: int, fmt: str) -> Response:
    row, path = issued_file(audit_id, issued_id, fmt)  # NotFound: 404 with its message
    # The stored bytes as they were issued; the ETag is their SHA-256.
    response = send_file(path, mimetype=row.content_type.split(";")[0], conditional=True,
                         etag=row.sha256, max_age=0)
    response.headers["Content-Disposition"] = content_disposition(row.file_name)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _audit_from(raw: str | None) -> Audit | None:
    if raw:
        return db.session.get(Audit, int(raw)) or abort(404)
    return latest_audit()


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, "날짜는 YYYY-MM-DD 형식으로 입력하세요.")
