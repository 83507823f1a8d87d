"""Evidence: upload (several files at once), download, delete.

A department that is not assigned to the item gets 404 for every URL here,
whatever id it tries; liaison, audit team and admin may download but not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from auditflow import dates
from auditflow.errors import DomainError
from auditflow.extensions import db
from auditflow.http.access import actor, require, viewer
from auditflow.http.downloads import send_evidence
from auditflow.http.errors import return_to
from auditflow.models import Evidence, Recommendation
from auditflow.permissions import Actor
from auditflow.services import access_log
from auditflow.services import evidence as evidence_ops
from auditflow.storage import ALLOWED_LABEL
from auditflow.web.evidence.forms import DeleteForm, DownloadReasonForm, UploadForm

bp = Blueprint("evidence", __name__)

# What the file chooser offers first; the server decides by the bytes anyway.
ACCEPT = ".pdf,.hwp,.hwpx,.docx,.xlsx,.pptx,.png,.jpg,.jpeg"


def _recommendation(recommendation_id: int) -> Recommendation:
    recommendation = db.session.get(Recommendation, recommendation_id)
    if recommendation is None or not recommendation.can_view(viewer()):
        abort(404)
    return recommendation


def _evidence(evidence_id: int) -> Evidence:
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None or not evidence.recommendation.can_view(viewer()):
        abort(404)
    return evidence



def _detail_url(recommendation: Recommendation) -> str:
    return url_for("recommendations.detail", recommendation_id=recommendation.id,
                   _anchor="evidence")


@bp.post("/recommendations/<int:recommendation_id>/evidence")
@require()
def upload(recommendation_id: int) -> ResponseReturnValue:
    recommendation = _recommendation(recommendation_id)
    # Not the item's team, or already submitted: the service's Korean 403 page.
    evidence_ops.check_may_change(recommendation, actor(), "올릴")
    return_to(_detail_url(recommendation))  # refused files: back to the page with the message
    form = UploadForm()
    if not form.validate_on_submit():
        raise DomainError(_first_error(form), code="evidence_file_required")
    files = [evidence_ops.Upload(f.stream, f.filename or "") for f in form.files.data if f]
    try:
        results = evidence_ops.upload_many(recommendation, actor(), files)
    except evidence_ops.EvidenceRejected as err:
        if err.status == 413:
            abort(413, err.message)  # over the limit: the Korean 413 page, nothing stored
        raise
    names = ", ".join(f"'{r.evidence.original_name}'(v{r.evidence.version})" for r in results)
    flash(f"증빙자료 {len(results)}개를 올렸습니다: {names}", "success")
    for result in results:
        if result.note:
            flash(f"'{result.evidence.original_name}': {result.note}", "warning")
    return redirect(_detail_url(recommendation), code=303)


@bp.get("/evidence/<int:evidence_id>/download")
@require()
def download(evidence_id: int) -> ResponseReturnValue:
    evidence = _evidence(evidence_id)
    if access_log.needs_download_reason():
        return redirect(url_for(".download_reason", evidence_id=evidence.id), code=303)
    return send_evidence(evidence)


@bp.route("/evidence/<int:evidence_id>/reason", methods=["GET", "POST"])
@require()
def download_reason(evidence_id: int) -> ResponseReturnValue:
    """The reason for this session's evidence downloads, asked before the first one
    (개인정보의 안전성 확보조치 기준 제8조); the download follows."""
    evidence = _evidence(evidence_id)
    form = DownloadReasonForm()
    if form.validate_on_submit():
        try:
            access_log.give_download_reason(form.reason.data)
        except DomainError as refused:
            form.reason.errors = [*form.reason.errors, refused.message]
        else:
            return redirect(url_for(".download", evidence_id=evidence.id), code=303)
    return render_template("evidence/reason.html", form=form, evidence=evidence,
                           back=_detail_url(evidence.recommendation))


@bp.post("/evidence/<int:evidence_id>/delete")
@require()
def delete(evidence_id: int) -> ResponseReturnValue:
    evidence = _evidence(evidence_id)
    recommendation = evidence.recommendation
    evidence_ops.check_may_change(recommendation, actor(), "삭제할")
    return_to(_detail_url(recommendation))
    form = DeleteForm()
    if not form.validate_on_submit():
        raise DomainError(_first_error(form), code="confirmation_required")
    evidence_ops.delete(evidence, actor())
    flash(f"'{evidence.original_name}'(v{evidence.version})을(를) 삭제했습니다.", "success")
    return redirect(_detail_url(recommendation), code=303)


def _first_error(form: UploadForm | DeleteForm) -> str:
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return "요청을 처리할 수 없습니다."


# ------------------------------------------------------ the panel's data ---


@dataclass(frozen=True)
class EvidenceRow:
    evidence: Evidence
    name: str
    version: int
    latest: bool
    size: str
    uploader: str
    uploaded_at: str
    can_delete: bool


@dataclass(frozen=True)
class EvidencePanel:
    rows: list[EvidenceRow]
    can_upload: bool
    allowed: str
    max_mb: int
    accept: str
    # This session gave no reason for downloads yet: the links open the reason's page first
    # (a plain link, not a download, or the browser would save that page as the file).
    asks_reason: bool = False


def file_size(size: int) -> str:
    """Sizes as people read them: '12.3KB', '4.5MB'."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f}MB"
    return f"{max(size / 1024, 0.1):.1f}KB"


def _moment(moment: datetime | None) -> str:
    if moment is None:
        return ""
    local = dates.local(moment)
    return f"{dates.short(local.date())} {local:%H:%M}"


@bp.app_template_global()
def evidence_panel(recommendation: Recommendation, user: Actor) -> EvidencePanel:
    """What templates/evidence/_panel.html shows for this item and user."""
    may_change = recommendation.can_change_evidence(user)
    items = sorted(recommendation.current_evidence, key=lambda e: -e.version)
    items.sort(key=lambda e: e.original_name)
    latest: set[str] = set()
    rows = []
    for item in items:
        uploader = item.uploaded_by
        team = uploader.team.name if uploader.team else ""
        rows.append(
            EvidenceRow(
                evidence=item,
                name=item.original_name,
                version=item.version,
                latest=item.original_name not in latest,
                size=file_size(item.size),
                uploader=f"{uploader.name}({team})" if team else uploader.name,
                uploaded_at=_moment(item.uploaded_at),
                can_delete=may_change,
            )
        )
        latest.add(item.original_name)
    return EvidencePanel(
        rows=rows,
        can_upload=may_change,
        allowed=ALLOWED_LABEL,
        max_mb=int(current_app.config["MAX_UPLOAD_MB"]),
        accept=ACCEPT,
        asks_reason=access_log.needs_download_reason(),
    )
