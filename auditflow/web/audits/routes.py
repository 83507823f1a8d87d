"""Audits: list, create, edit (whoever manages items: the audit team)."""

from __future__ import annotations

import base64
import io
import zlib
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select

from auditflow.errors import DomainError
from auditflow.extensions import db
from auditflow.http.access import actor, require
from auditflow.http.errors import return_to
from auditflow.models import Audit, OrgUnit, Recommendation
from auditflow.permissions import Capability
from auditflow.services import audits as ops
from auditflow.services import import_readers, importing
from auditflow.storage import clean_filename
from auditflow.vocabulary import Category
from auditflow.web.audits.forms import AuditForm, ImportConfirmForm, ImportUploadForm
from auditflow.web.recommendations.forms import team_choices

bp = Blueprint("audits", __name__, url_prefix="/audits")


@bp.get("")
@require(Capability.MANAGE_ITEMS)
def index() -> Any:
    counts = (
        select(Recommendation.audit_id, func.count(Recommendation.id).label("item_count"))
        .group_by(Recommendation.audit_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Audit, func.coalesce(counts.c.item_count, 0))
        .outerjoin(counts, counts.c.audit_id == Audit.id)
        .order_by(Audit.year.desc(), Audit.id.desc())
    ).all()
    return render_template("audits/index.html", rows=rows)


def _save(form: AuditForm, audit: Audit | None) -> Any:
    values = {name: getattr(form, name).data for name in ops.FIELDS}
    user = actor()
    try:
        if audit is None:
            audit = ops.create(user, **values)
            flash(f"'{audit.title}' 감사를 등록했습니다.", "success")
        else:
            ops.update(audit, user, **values)
            flash(f"'{audit.title}' 감사를 수정했습니다.", "success")
    except DomainError as error:
        db.session.rollback()
        target = form.title if error.code.startswith("title") else None
        if target is not None:
            target.errors = [*target.errors, error.message]
        else:
            form.form_errors.append(error.message)
        return render_template("audits/form.html", form=form, audit=audit), error.status
    return redirect(url_for("audits.index"), code=303)


@bp.route("/new", methods=["GET", "POST"])
@require(Capability.MANAGE_ITEMS)
def new() -> Any:
    form = AuditForm()
    if form.validate_on_submit():
        return _save(form, None)
    return render_template("audits/form.html", form=form, audit=None), 400 if form.errors else 200


@bp.route("/<int:audit_id>/edit", methods=["GET", "POST"])
@require(Capability.MANAGE_ITEMS)
def edit(audit_id: int) -> Any:
    audit = db.session.get(Audit, audit_id) or abort(404)
    form = AuditForm(obj=audit) if request.method == "GET" else AuditForm()
    if form.validate_on_submit():
        return _save(form, audit)
    return render_template("audits/form.html", form=form, audit=audit), 400 if form.errors else 200


# ─── 가져오기 ───────────────────────────────────────────────────────────────────
# Upload → preview (nothing written) → confirm. The preview carries the file itself,
# compressed and signed for this user and audit, so confirming needs no file kept on
# the server and imports exactly what was previewed; it is checked again all the same.

IMPORT_MAX_BYTES = 5 * 1024 * 1024


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="auditflow-import")


def _sealed(audit: Audit, name: str, data: bytes, team: OrgUnit | None) -> str:
    return _signer().dumps({"audit": audit.id, "user": actor().id, "name": name,
                            "team": team.id if team else None,
                            "data": base64.b64encode(zlib.compress(data, 9)).decode()})


def _unsealed(audit: Audit, token: str) -> tuple[str, bytes, OrgUnit | None]:
    try:
        payload = _signer().loads(token)
        if payload["audit"] != audit.id or payload["user"] != actor().id:
            raise BadSignature("not for this audit or user")
        data = zlib.decompress(base64.b64decode(payload["data"]), bufsize=IMPORT_MAX_BYTES)
        team = None
        if payload.get("team") is not None:
            team = db.session.get(OrgUnit, int(payload["team"]))
            if team is None:
                raise ValueError("the chosen team is gone")
        return str(payload["name"]), data, team
    except (BadSignature, KeyError, TypeError, ValueError, zlib.error):
        raise DomainError("미리 보기가 만료되었거나 올바르지 않습니다. 파일을 다시 올리세요.",
                          code="import_preview_invalid") from None


@bp.get("/import-template.xlsx")
@require(Capability.MANAGE_ITEMS)
def import_template() -> Any:
    teams = [name for _, name in team_choices()]
    data = import_readers.template_bytes([c.label for c in Category], teams,
                                         teams[0] if teams else None)
    response = send_file(io.BytesIO(data), as_attachment=True,
                         download_name="요구사항_가져오기_서식.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return response


@bp.route("/<int:audit_id>/import", methods=["GET", "POST"])
@require(Capability.MANAGE_ITEMS)
def import_items(audit_id: int) -> Any:
    audit = db.session.get(Audit, audit_id) or abort(404)
    form = ImportUploadForm()
    plan, sealed, error = None, None, None
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(IMPORT_MAX_BYTES + 1)
        name = clean_filename(upload.filename or "") or "목록.xlsx"
        team = db.session.get(OrgUnit, form.lead_team.data) if form.lead_team.data else None
        if len(data) > IMPORT_MAX_BYTES:
            error = f"가져올 파일은 {IMPORT_MAX_BYTES // (1024 * 1024)}MB까지 올릴 수 있습니다."
        else:
            try:
                plan = importing.plan(audit, data, name, lead_team=team)
            except DomainError as refused:
                error = refused.message
            else:
                sealed = _sealed(audit, name, data, team) if plan.ok and plan.new_items else None
    status = 400 if error or form.errors or (plan is not None and plan.problems) else 200
    return render_template("audits/import.html", audit=audit, form=form, plan=plan,
                           sealed=sealed, error=error, confirm_form=ImportConfirmForm()), status


@bp.post("/<int:audit_id>/import/confirm")
@require(Capability.MANAGE_ITEMS)
def import_confirm(audit_id: int) -> Any:
    audit = db.session.get(Audit, audit_id) or abort(404)
    return_to(url_for("audits.import_items", audit_id=audit.id))
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        raise DomainError("가져오려면 '확인했습니다'에 표시하세요.", code="confirmation_required")
    name, data, team = _unsealed(audit, form.sealed.data or "")
    plan = importing.plan(audit, data, name, lead_team=team)
    written = importing.apply(plan, audit, actor())
    flash(f"'{name}'에서 요구사항 {len(written)}건을 가져왔습니다"
          + (f" (이미 있던 {plan.unchanged}건은 그대로 두었습니다)." if plan.unchanged else "."),
          "success")
    return redirect(url_for("recommendations.index", audit=audit.id), code=303)
