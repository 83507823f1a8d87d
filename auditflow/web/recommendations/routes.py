"""Recommendations: the list, the item page, and every change made to an item.

Thin views: validate the form, call ``auditflow.services``, let the request
commit once. Access is decided on the server for every request: a department
asking for another team's item gets 404 (``load_visible``), a user without the
capability a view names gets 403 (``require``) before any work is done.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from markupsafe import Markup
from sqlalchemy import bindparam
from sqlalchemy.orm import joinedload, undefer
from sqlalchemy.orm.attributes import set_committed_value

from auditflow import dates, workflow
from auditflow.errors import DomainError
from auditflow.extensions import db
from auditflow.http.access import actor, load_visible, require
from auditflow.http.errors import return_to
from auditflow.korean import with_particle
from auditflow.models import (
    AccessKind,
    Audit,
    Comment,
    DueDateExtension,
    History,
    OrgUnit,
    Recommendation,
    TransferRequest,
    User,
)
from auditflow.models.recommendation import RETURN_TRIGGER
from auditflow.params import MAX_PAGE, search_text, small_int
from auditflow.permissions import Capability
from auditflow.reports import item_list
from auditflow.reports import item_search as queries
from auditflow.reports.due_dates import due_story
from auditflow.reports.work_queue import latest_reasons
from auditflow.services import bulk as bulk_ops
from auditflow.services import comments as comment_ops
from auditflow.services import extensions, transfers
from auditflow.services import recommendations as ops
from auditflow.services.access_log import record_access
from auditflow.vocabulary import Category, HistoryKind, RequestState, State
from auditflow.web import drafts, parts
from auditflow.web.forms import audit_choices, options
from auditflow.web.recommendations import timeline
from auditflow.web.recommendations.forms import (
    NO_TEAM,
    STATE_CHOICES,
    ActionForm,
    AssignForm,
    BulkForm,
    CommentForm,
    DueDateForm,
    EditTextForm,
    ExtensionRequestForm,
    FilterForm,
    RegisterForm,
    ResultForm,
    TransferRequestForm,
    team_choices,
)
from auditflow.web.templating import short_date

bp = Blueprint("recommendations", __name__, url_prefix="/recommendations")

# May change some item; the item's own rule then decides: 404 for an item the user
# may not see, 403 for one they see but may not change this way.
CHANGES_ITEMS = (Capability.MANAGE_ITEMS, Capability.WORK_ON_ASSIGNED_ITEMS)



def _detail_url(recommendation: Recommendation) -> str:
    return url_for("recommendations.detail", recommendation_id=recommendation.id)


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return small_int(value)


def _filters() -> queries.Filters:
    """The list's filters from the query string (the list page's, and the bulk form's)."""
    audit_arg = request.args.get("audit")
    if audit_arg is None:  # first visit: the latest audit
        audits = audit_choices()
        audit_id = audits[0][0] if audits else None
    else:
        audit_id = small_int(audit_arg)
    category = request.args.get("category") or None
    state = request.args.get("state") or None
    if category not in {c.value for c in Category}:
        category = None
    if state not in {s.value for s in State}:
        state = None
    return queries.Filters(
        audit_id=audit_id,
        category=category,
        state=state,
        team_id=_int_arg("team"),
        overdue=request.args.get("overdue") in {"1", "y", "on", "true"},
        q=search_text(request.args.get("q")),
    )


def _filter_args(filters: queries.Filters) -> dict[str, Any]:
    """The filters as the list's query string keeps them (empty ones left out, but audit)."""
    args = {
        "audit": str(filters.audit_id) if filters.audit_id else "",
        "category": filters.category or "", "state": filters.state or "",
        "team": str(filters.team_id) if filters.team_id else "",
        "overdue": "1" if filters.overdue else "", "q": filters.q,
    }
    return {key: value for key, value in args.items() if value or key == "audit"}


@bp.get("")
@require()
def index() -> Any:
    filters = _filters()
    number = small_int(request.args.get("page"), maximum=MAX_PAGE) or 1
    after, before = request.args.get("after"), request.args.get("before")
    last = request.args.get("last") == "1"
    user = actor()
    can_manage, view_all = user.can(Capability.MANAGE_ITEMS), user.can(Capability.VIEW_ALL_ITEMS)

    def draw() -> _Listing:
        page = queries.search(user, filters, number=number, after=after, before=before, last=last)
        form = FilterForm(formdata=None)
        form.audit.choices = options([("", "전체 감사"), *((str(i), t) for i, t in audit_choices())])
        form.audit.data = str(filters.audit_id) if filters.audit_id else ""
        form.category.choices = options([("", "전체"), *((c.value, c.label) for c in Category)])
        form.category.data = filters.category or ""
        form.state.choices = options([("", "전체"), *STATE_CHOICES])
        form.state.data = filters.state or ""
        form.team.choices = options([("", "전체 부서"), *((str(i), n) for i, n in team_choices())])
        form.team.data = str(filters.team_id) if filters.team_id else ""
        form.overdue.data = filters.overdue
        form.q.data = filters.q
        args = _filter_args(filters)
        pager = {  # by key: the deepest page answers as fast as the first
            "first": url_for("recommendations.index", **args),
            "prev": url_for("recommendations.index", page=page.number - 1,
                            before=page.prev_before, **args) if page.prev_before else None,
            "next": url_for("recommendations.index", page=page.number + 1,
                            after=page.next_after, **args) if page.next_after else None,
            "last": url_for("recommendations.index", page=page.pages, last="1", **args)
            if page.pages and page.number < page.pages else None,
        }
        bulk_form = None
        if can_manage and page.items:
            bulk_form = BulkForm(formdata=None)
            bulk_form.fill_team_choices()
        export_urls = [(fmt.upper(), url_for("recommendations.export", fmt=fmt, **args))
                       for fmt in ("xlsx", "csv")]
        template = "recommendations/_listing.html"
        return _Listing(
            top=parts.macro(template, "top")(page, form, filters, export_urls, can_manage, view_all),
            body=parts.macro(template, "body")(page, bulk_form),
            bottom=parts.macro(template, "bottom")(page, pager),
            bulk_url=url_for("recommendations.bulk", **args) if bulk_form else None)

    listing = parts.kept((Recommendation.visibility_key(user), can_manage, view_all,
                          filters.key(), number, after, before, last), draw)
    return render_template("recommendations/index.html", listing=listing)


@dataclass(frozen=True)
class _Listing:
    """The list page's parts (``_listing.html``), and where the bulk form posts, if shown."""

    top: Markup
    body: Markup
    bottom: Markup
    bulk_url: str | None


@bp.get("/export.<fmt>")
@require()
def export(fmt: str) -> Any:
    """The list as filtered, every page of it, as XLSX or CSV (what this user may see)."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    filters = _filters()
    items = queries.matching(actor(), filters, limit=item_list.LIMIT)
    listing = item_list.ItemList(items, _conditions_text(filters), dates.today())
    stamp = dates.today().strftime("%Y%m%d")
    if fmt == "csv":
        body: bytes = item_list.to_csv(listing).encode("utf-8")
        mimetype = "text/csv; charset=utf-8"
    else:
        body = item_list.to_xlsx(listing)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    record_access(AccessKind.EXPORT, target=f"item list {fmt} ({len(items)} items)", detail=listing.conditions or None)
    return send_file(io.BytesIO(body), as_attachment=True, mimetype=mimetype,
                     download_name=f"요구사항_목록_{stamp}.{fmt}")


def _conditions_text(filters: queries.Filters) -> str:
    """The filters in words, for the first line of an exported list."""
    parts = []
    if filters.audit_id:
        audit = db.session.get(Audit, filters.audit_id)
        parts.append(f"감사: {audit.title if audit else filters.audit_id}")
    if filters.category:
        parts.append(f"구분: {Category(filters.category).label}")
    if filters.state:
        parts.append(f"상태: {State(filters.state).label}")
    if filters.team_id:
        team = db.session.get(OrgUnit, filters.team_id)
        parts.append(f"부서: {team.name if team else filters.team_id}")
    if filters.overdue:
        parts.append("기한 경과만")
    if filters.q.strip():
        parts.append(f"검색어: '{filters.q.strip()}'")
    return " · ".join(parts)


@bp.post("/bulk")
@require(Capability.MANAGE_ITEMS)
def bulk() -> Any:
    filters = _filters()
    back = url_for("recommendations.index", **_filter_args(filters))
    return_to(back)
    form = BulkForm()
    form.fill_team_choices()
    if not form.validate_on_submit():
        message = " ".join(error for errors in form.errors.values() for error in errors)
        raise DomainError(message or "요청이 올바르지 않습니다.", code="invalid_form")
    user = actor()
    if form.all_matching.data:
        items = queries.matching(user, filters, limit=bulk_ops.LIMIT + 1)
        targets = [bulk_ops.Target(item, None) for item in items]
    else:
        ids = [n for n in (small_int(v) for v in request.form.getlist("ids")) if n is not None]
        found = {item.id: item for item in queries.visible_items(user, ids)}
        targets = []
        for item_id in dict.fromkeys(ids):
            item = found.get(item_id)
            if item is None:
                abort(404)  # not there, or not this user's to see
            seen = request.form.get(f"v{item_id}", "")
            version = small_int(seen)
            targets.append(bulk_ops.Target(item, -1 if version is None else version))
    action = bulk_ops.BulkAction(form.action.data)
    lead, supporting = form.selected_teams()
    outcome = bulk_ops.run(action, targets, user, lead_team=lead, supporting_teams=supporting,
                           due_date=form.due_date.data, reason=form.reason.data)
    _bulk_flashes(action, outcome)
    return redirect(back, code=303)


def _bulk_flashes(action: bulk_ops.BulkAction, outcome: bulk_ops.Outcome) -> None:
    def numbers(items: list[Recommendation]) -> str:
        return ", ".join(f"{item.number}번" for item in items)

    if outcome.done:
        flash(f"{len(outcome.done)}건을 '{action.label}' 처리했습니다: {numbers(outcome.done)}",
              "success")
    if outcome.conflicts:
        flash(f"다른 사용자가 먼저 바꾸어 그대로 둔 요구사항 {len(outcome.conflicts)}건: "
              f"{numbers(outcome.conflicts)}. 목록을 새로 본 뒤 다시 하세요.", "warning")
    by_reason: dict[str, list[Recommendation]] = {}
    for item, why in outcome.refused:
        by_reason.setdefault(why, []).append(item)
    for why, items in by_reason.items():
        flash(f"처리하지 못한 요구사항 {len(items)}건({numbers(items)}): {why}", "error")


@bp.route("/new", methods=["GET", "POST"])
@require(Capability.MANAGE_ITEMS)
def new() -> Any:
    form = RegisterForm()
    form.audit.choices = options(audit_choices())
    form.fill_team_choices()
    if request.method == "GET":
        chosen = _int_arg("audit")
        if chosen:
            form.audit.data = chosen
        if form.audit.data:
            form.number.data = _next_number(form.audit.data)
    if form.validate_on_submit():
        audit = db.session.get(Audit, form.audit.data) or abort(400)
        lead, supporting = form.selected_teams()
        try:
            recommendation = ops.register(
                audit, number=form.number.data, category=Category(form.category.data),
                council_text=form.council_text.data, actor=actor(), lead_team=lead,
                supporting_teams=supporting, due_date=form.due_date.data,
            )
        except DomainError as error:
            return _form_refused(form, error, "recommendations/new.html")
        flash(f"{recommendation.number}번 요구사항을 등록했습니다.", "success")
        return redirect(_detail_url(recommendation), code=303)
    return _render_form(form, "recommendations/new.html")


def _next_number(audit_id: int) -> int:
    from sqlalchemy import func

    highest = db.session.scalar(
        db.select(func.max(Recommendation.number)).where(Recommendation.audit_id == audit_id)
    )
    return (highest or 0) + 1


def _render_form(form: Any, template: str, **context: Any) -> Any:
    status = 400 if form.errors else 200
    return render_template(template, form=form, **context), status


# Refusals of a service land next to the field they are about.
ERROR_FIELDS = {
    "reason_required": "reason",
    "council_text_required": "council_text",
    "number_invalid": "number",
    "number_taken": "number",
    "team_not_assignable": "lead_team",
    "team_duplicate": "supporting_teams",
}


def _form_refused(form: Any, error: DomainError, template: str, **context: Any) -> Any:
    db.session.rollback()
    name = ERROR_FIELDS.get(error.code)
    field = getattr(form, name, None) if name else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)
    return render_template(template, form=form, **context), error.status


def _item_options() -> list[Any]:
    # The audit, the lead team and the supporting teams (a few rows of the item) in the
    # item's own statement.
    return [
        joinedload(Recommendation.audit),
        joinedload(Recommendation.lead_team),
        joinedload(Recommendation.supporting_teams),
        undefer(Recommendation.last_trigger),
    ]


@functools.cache
def _item_statements() -> tuple[Any, Any]:
    """The item page's history and comments, each with its people in the same statement
    (the due-date story comes from the history), built once."""
    history = (db.select(History).where(History.recommendation_id == bindparam("item"))
               .order_by(History.at, History.id)
               .options(joinedload(History.actor).joinedload(User.team)))
    comments = (db.select(Comment).where(Comment.recommendation_id == bindparam("item"))
                .order_by(Comment.id).options(joinedload(Comment.author)))
    return history, comments


@bp.get("/<int:recommendation_id>")
@require()
def detail(recommendation_id: int) -> Any:
    recommendation = load_visible(recommendation_id, *_item_options())
    return _render_detail(recommendation)


def _render_detail(recommendation: Recommendation, *, result_form: ResultForm | None = None,
                   comment_form: CommentForm | None = None, status: int = 200) -> Any:
    user = actor()
    history_of, comments_of = _item_statements()
    history = list(db.session.scalars(history_of, {"item": recommendation.id}))
    comments = list(db.session.scalars(comments_of, {"item": recommendation.id}))
    # Every upload, extension request and transfer request writes the item's history in its
    # own transaction: an item whose history has none of one kind has none of it to load.
    kinds = {row.kind for row in history}
    if HistoryKind.EVIDENCE.value not in kinds:
        set_committed_value(recommendation, "evidence", [])
    if result_form is None and recommendation.can_edit_result(user):
        result_form = ResultForm(formdata=None, action_details=recommendation.action_details,
                                 future_plan=recommendation.future_plan or "",
                                 version=recommendation.version)
    if comment_form is None and recommendation.can_comment(user):
        comment_form = CommentForm(formdata=None)
    editing = result_form if recommendation.can_edit_result(user) else None
    return render_template(
        "recommendations/detail.html",
        recommendation=recommendation,
        # The item's own team writes: the editor takes the place of the text it edits.
        writing=editing is not None and recommendation.works_on(user),
        actions=workflow.available_actions(recommendation, user),
        timeline=timeline.describe(history),
        comments=comments,
        result_form=editing,
        comment_form=comment_form if recommendation.can_comment(user) else None,
        can_manage=recommendation.can_manage(user),
        returned=latest_reasons([recommendation.id], RETURN_TRIGGER).get(recommendation.id)
        if recommendation.is_returned else None,
        extension=_extension_panel(recommendation, user, history,
                                   asked=HistoryKind.EXTENSION.value in kinds),
        transfer=_transfer_panel(recommendation, user, asked=HistoryKind.TRANSFER.value in kinds),
    ), status


def _extension_panel(recommendation: Recommendation, user: Any, history: list[History], *,
                     asked: bool) -> dict[str, Any]:
    """What the item page shows of its due-date story (from its ``history``) and requests
    (read when one was ever ``asked``), for this user."""
    requests = extensions.requests_of(recommendation) if asked else []
    waiting = next((r for r in requests if r.state_enum is RequestState.PENDING), None)
    may_ask = (waiting is None and recommendation.works_on(user)
               and not recommendation.state_enum.is_closed)
    return {
        "history": due_story(recommendation.id, history),
        "requests": requests,
        "pending": waiting,
        "actions": workflow.EXTENSIONS.available_actions(waiting, user) if waiting else [],
        "form": ExtensionRequestForm(formdata=None, version=recommendation.version)
        if may_ask else None,
    }


def _transfer_panel(recommendation: Recommendation, user: Any, *, asked: bool) -> dict[str, Any]:
    """The item's transfer requests (read when one was ever ``asked``), and the form for its
    lead team."""
    requests = transfers.requests_of(recommendation) if asked else []
    waiting = next((r for r in requests if r.state_enum is RequestState.PENDING), None)
    form = None
    if waiting is None and transfers.may_request(recommendation, user):
        form = TransferRequestForm(formdata=None, version=recommendation.version)
        form.fill_team_choices(recommendation.lead_team_id)
    return {
        "requests": requests,
        "pending": waiting,
        "actions": workflow.TRANSFERS.available_actions(waiting, user) if waiting else [],
        "form": form,
    }


def _load_for_change(recommendation_id: int) -> Recommendation:
    recommendation = load_visible(recommendation_id, *_item_options())
    return_to(_detail_url(recommendation))
    return recommendation


def _load_for_manage(recommendation_id: int) -> Recommendation:
    recommendation = _load_for_change(recommendation_id)
    if not recommendation.can_manage(actor()):
        abort(403)
    return recommendation


@bp.route("/<int:recommendation_id>/edit", methods=["GET", "POST"])
@require(*CHANGES_ITEMS)
def edit(recommendation_id: int) -> Any:
    recommendation = _load_for_manage(recommendation_id)
    form = EditTextForm()
    if request.method == "GET":
        form = EditTextForm(formdata=None, category=recommendation.category,
                            council_text=recommendation.council_text,
                            version=recommendation.version)
    elif form.validate_on_submit():
        try:
            ops.edit_text(recommendation, actor(), council_text=form.council_text.data,
                          category=Category(form.category.data), reason=form.reason.data,
                          expected_version=form.expected_version())
        except DomainError as error:
            return _form_refused(form, error, "recommendations/edit.html",
                                 recommendation=recommendation)
        flash("요구사항을 수정했습니다.", "success")
        return redirect(_detail_url(recommendation), code=303)
    return _render_form(form, "recommendations/edit.html", recommendation=recommendation)


@bp.route("/<int:recommendation_id>/assign", methods=["GET", "POST"])
@require(*CHANGES_ITEMS)
def assign(recommendation_id: int) -> Any:
    recommendation = _load_for_manage(recommendation_id)
    form = AssignForm()
    if request.method == "GET":
        form = AssignForm(
            formdata=None,
            lead_team=recommendation.lead_team_id or NO_TEAM,
            supporting_teams=[team.id for team in recommendation.supporting_teams],
            version=recommendation.version,
        )
    form.fill_team_choices()
    if request.method == "POST" and form.validate_on_submit():
        lead, supporting = form.selected_teams()
        try:
            ops.assign(recommendation, actor(), lead_team=lead, supporting_teams=supporting,
                       reason=form.reason.data, expected_version=form.expected_version())
        except DomainError as error:
            return _form_refused(form, error, "recommendations/assign.html",
                                 recommendation=recommendation)
        flash("담당 부서를 지정했습니다.", "success")
        return redirect(_detail_url(recommendation), code=303)
    return _render_form(form, "recommendations/assign.html", recommendation=recommendation)


@bp.route("/<int:recommendation_id>/due-date", methods=["GET", "POST"])
@require(*CHANGES_ITEMS)
def due_date(recommendation_id: int) -> Any:
    recommendation = _load_for_manage(recommendation_id)
    form = DueDateForm()
    if request.method == "GET":
        form = DueDateForm(formdata=None, due_date=recommendation.due_date,
                           version=recommendation.version)
    elif form.validate_on_submit():
        try:
            ops.set_due_date(recommendation, actor(), form.due_date.data, reason=form.reason.data,
                             expected_version=form.expected_version())
        except DomainError as error:
            return _form_refused(form, error, "recommendations/due_date.html",
                                 recommendation=recommendation)
        flash("처리 기한을 저장했습니다.", "success")
        return redirect(_detail_url(recommendation), code=303)
    return _render_form(form, "recommendations/due_date.html", recommendation=recommendation)


@bp.post("/<int:recommendation_id>/result")
@require(*CHANGES_ITEMS)
def result(recommendation_id: int) -> Any:
    recommendation = _load_for_change(recommendation_id)
    if not recommendation.can_edit_result(actor()):
        abort(403)
    form = ResultForm()
    if not form.validate_on_submit():
        return _render_detail(recommendation, result_form=form, status=400)
    ops.edit_result(recommendation, actor(), action_details=form.action_details.data or "",
                    future_plan=form.future_plan.data, expected_version=form.expected_version())
    drafts.saved(recommendation.id, drafts.Draft.RESULT)
    flash("조치결과를 저장했습니다.", "success")
    return redirect(_detail_url(recommendation), code=303)


@bp.post("/<int:recommendation_id>/actions/<trigger>")
@require(*workflow.TRIGGER_CAPABILITIES)
def action(recommendation_id: int, trigger: str) -> Any:
    recommendation = _load_for_change(recommendation_id)
    form = ActionForm()
    if not form.validate_on_submit():
        raise DomainError("요청이 올바르지 않습니다. 화면을 새로 고친 뒤 다시 시도하세요.",
                          code="invalid_form")
    spec = workflow.BY_TRIGGER.get(trigger)
    if spec is None:
        abort(404)
    ops.fire(recommendation, trigger, actor(), reason=form.reason.data,
             confirmed=bool(form.confirm.data), expected_version=form.expected_version())
    flash(f"'{spec.label}' 처리했습니다. 현재 상태: {State(recommendation.state).label}", "success")
    return redirect(_detail_url(recommendation), code=303)


@bp.post("/<int:recommendation_id>/comments")
@require(*CHANGES_ITEMS)
def comment(recommendation_id: int) -> Any:
    recommendation = _load_for_change(recommendation_id)
    if not recommendation.can_comment(actor()):
        abort(403)
    form = CommentForm()
    if not form.validate_on_submit():
        return _render_detail(recommendation, comment_form=form, status=400)
    comment_ops.add(recommendation, actor(), form.body.data)
    drafts.saved(recommendation.id, drafts.Draft.COMMENT)
    flash("의견을 남겼습니다.", "success")
    return redirect(_detail_url(recommendation) + "#comments", code=303)


# ─── 기한 연장 ──────────────────────────────────────────────────────────────────


@bp.post("/<int:recommendation_id>/extensions")
@require(Capability.WORK_ON_ASSIGNED_ITEMS, Capability.MANAGE_ITEMS)
def request_extension(recommendation_id: int) -> Any:
    recommendation = _load_for_change(recommendation_id)
    if not recommendation.works_on(actor()):
        abort(403)  # before the form: a wrong form must not hide the refusal
    form = ExtensionRequestForm()
    if not form.validate_on_submit():
        message = " ".join(error for errors in form.errors.values() for error in errors)
        raise DomainError(message or "요청이 올바르지 않습니다.", code="invalid_form")
    extensions.request(recommendation, actor(), form.requested_due.data, form.reason.data,
                       expected_version=form.expected_version())
    drafts.saved(recommendation.id, drafts.Draft.EXTENSION)
    flash(f"기한 연장({short_date(form.requested_due.data)})을 요청했습니다. 감사팀이 결정하면 알려 드립니다.",
          "success")
    return redirect(_detail_url(recommendation) + "#extension", code=303)


@bp.post("/<int:recommendation_id>/extensions/<int:extension_id>/<trigger>")
@require(*workflow.EXTENSIONS_CAPABILITIES)
def decide_extension(recommendation_id: int, extension_id: int, trigger: str) -> Any:
    return _decide(recommendation_id, DueDateExtension, extension_id, workflow.EXTENSIONS,
                   extensions.decide, trigger, "기한 연장 요청", "#extension")


# ─── 이관 ───────────────────────────────────────────────────────────────────────


@bp.post("/<int:recommendation_id>/transfers")
@require(Capability.WORK_ON_ASSIGNED_ITEMS)
def request_transfer(recommendation_id: int) -> Any:
    recommendation = _load_for_change(recommendation_id)
    if not recommendation.is_lead(actor()):
        abort(403)  # before the form: a wrong form must not hide the refusal
    form = TransferRequestForm()
    form.fill_team_choices(recommendation.lead_team_id)
    if not form.validate_on_submit():
        message = " ".join(error for errors in form.errors.values() for error in errors)
        raise DomainError(message or "요청이 올바르지 않습니다.", code="invalid_form")
    to_team = db.session.get(OrgUnit, form.to_team.data) if form.to_team.data else None
    transfer = transfers.request(recommendation, actor(), to_team, form.reason.data,
                                 expected_version=form.expected_version())
    drafts.saved(recommendation.id, drafts.Draft.TRANSFER)
    flash(f"{with_particle(transfer.to_team.name, '으로/로')} 이관을 요청했습니다. "
          "감사팀이 결정하면 알려 드립니다.", "success")
    return redirect(_detail_url(recommendation) + "#transfer", code=303)


@bp.post("/<int:recommendation_id>/transfers/<int:transfer_id>/<trigger>")
@require(*workflow.TRANSFERS_CAPABILITIES)
def decide_transfer(recommendation_id: int, transfer_id: int, trigger: str) -> Any:
    return _decide(recommendation_id, TransferRequest, transfer_id, workflow.TRANSFERS,
                   transfers.decide, trigger, "이관 요청", "#transfer")


def _decide(recommendation_id: int, kind: type[Any], request_id: int, machine: workflow.Workflow,
            decide: Any, trigger: str, what: str, anchor: str) -> Any:
    """A decision on a team's request (or its withdrawal), by the request's own workflow."""
    recommendation = _load_for_change(recommendation_id)
    team_request = db.session.get(kind, request_id)
    if team_request is None or team_request.recommendation_id != recommendation.id:
        abort(404)
    spec = machine.by_trigger.get(trigger)
    if spec is None:
        abort(404)
    form = ActionForm()
    if not form.validate_on_submit():
        raise DomainError("요청이 올바르지 않습니다. 화면을 새로 고친 뒤 다시 시도하세요.",
                          code="invalid_form")
    decide(team_request, trigger, actor(), reason=form.reason.data,
           expected_version=form.expected_version())
    flash(f"{with_particle(what, '을/를')} '{spec.label}' 처리했습니다.", "success")
    return redirect(_detail_url(recommendation) + anchor, code=303)
