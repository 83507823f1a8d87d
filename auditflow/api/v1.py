"""JSON API v1 under /api/v1 (flask-smorest): the OpenAPI document is generated from these views.

Every view is behind the same ``require`` and item rules as the pages; the caller is the
signed-in cookie user or the user of a bearer token (``auditflow.http.tokens``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar, cast

from flask import url_for
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from auditflow import dates, workflow
from auditflow.api import schemas
from auditflow.errors import DomainError, NotFound
from auditflow.extensions import db
from auditflow.http.access import actor, load_visible, require, viewer
from auditflow.http.downloads import send_evidence
from auditflow.http.report_files import report_response
from auditflow.models import Audit, Comment, Evidence, History, OrgUnit, Recommendation
from auditflow.permissions import Actor, Capability
from auditflow.reports import FORMAT_LABELS, FORMATS, item_search, writer
from auditflow.reports.content import CONTENT_TYPES, build_report
from auditflow.reports.summary import latest_audit, summarize
from auditflow.services import comments as comment_ops
from auditflow.services import evidence as evidence_ops
from auditflow.services import recommendations as ops
from auditflow.services import report_jobs
from auditflow.storage import KINDS
from auditflow.vocabulary import UnitKind

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1",
               description="행정사무감사 처리결과 관리 API")

F = TypeVar("F", bound=Callable[..., Any])


# flask-smorest has no types: its decorators, said to keep the view's own signature.
def route(rule: str, method: str, tag: str) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        documented = bp.doc(tags=[tag])(view)
        return cast(F, bp.route(rule, methods=[method])(documented))

    return decorator


def arguments(schema: Any, **options: Any) -> Callable[[F], F]:
    return cast(Callable[[F], F], bp.arguments(schema, as_kwargs=True, **options))


def documented(**doc: Any) -> Callable[[F], F]:
    return cast(Callable[[F], F], bp.doc(**doc))


def response(status: int, schema: Any = None, **options: Any) -> Callable[[F], F]:
    return cast(Callable[[F], F], bp.response(status, schema, **options))


# ── shapes ───────────────────────────────────────────────────────────────────
def _ref(unit: Any) -> dict[str, Any] | None:
    return {"id": unit.id, "name": unit.name} if unit else None


def row(item: Recommendation) -> dict[str, Any]:
    return {
        "id": item.id,
        "number": item.number,
        "audit": {"id": item.audit.id, "year": item.audit.year, "title": item.audit.title},
        "category": item.category,
        "category_label": item.category_enum.label,
        "council_text": item.council_text,
        "state": item.state,
        "state_label": item.state_enum.label,
        "returned": item.is_returned,
        "teams": {"lead": _ref(item.lead_team),
                  "supporting": [_ref(unit) for unit in item.supporting_teams]},
        "due_date": item.due_date,
        "action_details": item.action_details,
        "future_plan": item.future_plan,
        "version": item.version,
    }


def detail(item: Recommendation, user: Actor) -> dict[str, Any]:
    return {**row(item), "allowed_actions": [
        action.as_dict() for action in workflow.available_actions(item, user)]}


# ── audits, teams, summary ───────────────────────────────────────────────────
@route("/audits", "GET", "감사")
@require()
@response(200, schemas.AuditOut(many=True))
def audits() -> Any:
    """감사 목록 (최근 감사부터)"""
    return db.session.scalars(select(Audit).order_by(Audit.year.desc(), Audit.id.desc())).all()


@route("/teams", "GET", "부서")
@require()
@response(200, schemas.TeamOut(many=True))
def teams() -> Any:
    """부서 목록 (본부·팀·TF)"""
    units = db.session.scalars(select(OrgUnit).order_by(OrgUnit.sort_order, OrgUnit.id)).all()
    return [unit for unit in units if unit.kind in {kind.value for kind in UnitKind}]


@route("/summary", "GET", "처리결과 총괄")
@require(Capability.VIEW_REPORTS)
@arguments(schemas.SummaryArgs, location="query")
@response(200, schemas.SummaryOut)
def summary(audit: int | None = None, as_of: date | None = None) -> Any:
    """처리결과 총괄 (기준일 기준), `flask summary --format json`과 같은 내용"""
    chosen = db.session.get(Audit, audit) if audit else latest_audit()
    if chosen is None:
        raise NotFound("감사가 없습니다." if audit is None else f"{audit}번 감사가 없습니다.",
                       code="audit_not_found")
    result = summarize(chosen, as_of)
    return {**result.as_dict(), "as_of": result.as_of}  # the schema writes the date back


@route(f"/audits/<int:audit_id>/report/<any({', '.join(FORMATS)}):fmt>", "GET", "처리결과 총괄")
@require(Capability.VIEW_REPORTS)
@arguments(schemas.ReportArgs, location="query")
@documented(responses={"200": {
    "description": "처리결과 보고서 파일 (화면의 내려받기와 같은 파일)",
    "content": {CONTENT_TYPES[fmt].split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
                for fmt in FORMATS}}})
def report_file(audit_id: int, fmt: str, *, as_of: date | None = None,
                due_changes: bool = True) -> Any:
    """처리결과 보고서 파일 (형식: pdf, hwpx, xlsx, html, csv; 기준일 기준)

    요구사항이 많아 바로 만들 수 없는 형식은 409(report_needs_job): 처리결과 화면의 '파일 만들기'를 쓰세요.
    """
    chosen = db.session.get(Audit, audit_id)
    if chosen is None:
        raise NotFound(f"{audit_id}번 감사가 없습니다.", code="audit_not_found")
    write = writer(fmt)  # FormatUnavailable: 404 with its Korean message
    day = as_of or dates.today()
    if day > dates.today():
        raise DomainError("기준일은 오늘 이후일 수 없습니다.", code="as_of_in_future")
    items = report_jobs.report_items(chosen, day)  # counted: built only if made here
    if report_jobs.needs_job(fmt, items):
        raise DomainError(f"요구사항이 {items}건이라 {FORMAT_LABELS[fmt]} 파일은 바로 만들 수 "
                          "없습니다. 처리결과 화면의 '파일 만들기'로 만드세요.",
                          code="report_needs_job", status=409)
    report = build_report(chosen, day, include_due_changes=due_changes)
    return report_response(report, write, fmt,
                           target=f"audit {chosen.id} report.{fmt} as of {day.isoformat()} (API)")


# ── recommendations ──────────────────────────────────────────────────────────
@route("/recommendations", "GET", "요구사항")
@require()
@arguments(schemas.ListArgs, location="query")
@response(200, schemas.RecommendationPage)
def recommendations(*, audit: int | None = None, category: str | None = None,
                    state: str | None = None, team: int | None = None, overdue: bool = False,
                    q: str = "", after: str | None = None,
                    per_page: int = item_search.PER_PAGE) -> Any:
    """요구사항 목록: 목록 화면과 같은 조건, 키로 넘기는 쪽 (after=앞 쪽의 next_after)"""
    filters = item_search.Filters(audit_id=audit, category=category, state=state,
                                  team_id=team, overdue=overdue, q=q)
    page = item_search.search(viewer(), filters, per_page=per_page, after=after)
    return {"items": [row(item) for item in page.items], "per_page": per_page,
            "total": page.total, "next_after": page.next_after}


@route("/recommendations/<int:recommendation_id>", "GET", "요구사항")
@require()
@response(200, schemas.RecommendationOut)
def recommendation(recommendation_id: int) -> Any:
    """요구사항 하나와 이 사용자가 지금 할 수 있는 동작(allowed_actions)"""
    return detail(load_visible(recommendation_id), viewer())


@route("/recommendations/<int:recommendation_id>/history", "GET", "처리 이력")
@require()
@response(200, schemas.HistoryOut(many=True))
def history(recommendation_id: int) -> Any:
    """처리 이력 (오래된 것부터)"""
    item = load_visible(recommendation_id)
    return db.session.scalars(
        select(History).where(History.recommendation_id == item.id)
        .order_by(History.at, History.id).options(selectinload(History.actor))).all()


def _evidence_out(evidence: Evidence) -> dict[str, Any]:
    return {"id": evidence.id, "name": evidence.original_name, "version": evidence.version,
            "size": evidence.size, "sha256": evidence.sha256,
            "content_type": evidence.content_type, "uploaded_by": _ref(evidence.uploaded_by),
            "uploaded_at": evidence.uploaded_at,
            "download": url_for("api_v1.evidence_download", evidence_id=evidence.id)}


@route("/recommendations/<int:recommendation_id>/evidence", "GET", "증빙자료")
@require()
@response(200, schemas.EvidenceOut(many=True))
def evidence(recommendation_id: int) -> Any:
    """증빙자료 (삭제된 것은 빼고, 이름과 버전 순)"""
    item = load_visible(recommendation_id)
    rows = db.session.scalars(
        select(Evidence).where(Evidence.recommendation_id == item.id,
                               Evidence.deleted_at.is_(None))
        .order_by(Evidence.original_name, Evidence.version)
        .options(selectinload(Evidence.uploaded_by))).all()
    return [_evidence_out(row) for row in rows]


@route("/recommendations/<int:recommendation_id>/evidence", "POST", "증빙자료")
@require()
@arguments(schemas.UploadIn, location="files")
@response(201, schemas.EvidenceOut(many=True))
def upload_evidence(recommendation_id: int, *, files: list[Any]) -> Any:
    """증빙자료 올리기 (multipart/form-data의 files, 여러 개; 모두 저장하거나 하나도 저장하지 않음;
    파일 이름의 확장자는 내용의 형식과 맞아야 함; 저장 공간이 부족하면 507)"""
    item = load_visible(recommendation_id)
    uploads = [evidence_ops.Upload(f.stream, f.filename or "") for f in files]
    return [_evidence_out(done.evidence) for done in evidence_ops.upload_many(item, actor(), uploads)]


@route("/evidence/<int:evidence_id>", "GET", "증빙자료")
@require()
@documented(responses={"200": {
    "description": "파일 (형식은 올릴 때 내용으로 판별한 것)",
    "content": {kind.mime: {"schema": {"type": "string", "format": "binary"}}
                for kind in KINDS.values()}}})
def evidence_download(evidence_id: int) -> Any:
    """증빙자료 내려받기"""
    found = db.session.get(Evidence, evidence_id)
    if found is None or not found.recommendation.can_view(viewer()):
        raise NotFound("증빙자료를 찾을 수 없습니다.")
    return send_evidence(found)


@route("/recommendations/<int:recommendation_id>/comments", "GET", "의견")
@require()
@response(200, schemas.CommentOut(many=True))
def comments(recommendation_id: int) -> Any:
    """의견 (오래된 것부터)"""
    item = load_visible(recommendation_id)
    return db.session.scalars(
        select(Comment).where(Comment.recommendation_id == item.id).order_by(Comment.id)
        .options(selectinload(Comment.author))).all()


@route("/recommendations/<int:recommendation_id>/comments", "POST", "의견")
@require()
@arguments(schemas.CommentIn)
@response(201, schemas.CommentOut)
def add_comment(recommendation_id: int, *, body: str) -> Any:
    """의견 남기기 (감사팀과 지정된 부서)"""
    item = load_visible(recommendation_id)
    return comment_ops.add(item, actor(), body)


@route("/recommendations/<int:recommendation_id>/actions/<trigger>", "POST", "워크플로 동작")
@require(*workflow.TRIGGER_CAPABILITIES)
@arguments(schemas.ActionIn)
@response(200, schemas.RecommendationOut)
def action(recommendation_id: int, trigger: str, *, version: int, reason: str | None = None,
           confirm: bool = False) -> Any:
    """워크플로 동작 (start, submit, approve, return_for_rework, decline, reopen)

    version은 응답에서 본 항목의 version입니다. 그사이 다른 사용자가 바꾸었으면 409(conflict).
    """
    item = load_visible(recommendation_id)
    ops.fire(item, trigger, actor(), reason=reason, confirmed=confirm, expected_version=version)
    return detail(item, actor())
