"""Audits: list, create, edit (whoever manages items: the audit team)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from auditflow.errors import DomainError
from auditflow.extensions import db
from auditflow.http.access import actor, require
from auditflow.models import Audit, Recommendation
from auditflow.permissions import Capability
from auditflow.services import audits as ops
from auditflow.web.audits.forms import AuditForm

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
