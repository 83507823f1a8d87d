"""처리결과 총괄 (/summary): the report on screen, its downloads, and issued versions (발행).

Whoever may view reports (``Capability.VIEW_REPORTS``) sees the page and
downloads; departments get 403 (they see only their own items). Issuing needs
``Capability.ISSUE_REPORTS``. Every number comes from the report model (``auditflow.reports.content``),
whose table is the summary engine's.

발행 and the downloads of a large report are report jobs made by the worker
(``services.report_jobs``): the post starts one (or joins the one under way) and
comes back to the page, which shows the job's progress; app.js polls ``job_status``
and puts in the files when they are there. Without script, ``job`` is the job's own
page, looked at again by a link. A download of a report with at most
``DIRECT_DOWNLOAD_MAX_ITEMS`` items (per format) is made at once, as before.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    get_template_attribute,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup

from auditflow import dates
from auditflow.errors import DomainError, NotFound
from auditflow.extensions import db
from auditflow.http import security
from auditflow.http.access import actor, require, viewer
from auditflow.http.downloads import send_stored
from auditflow.http.errors import return_to
from auditflow.http.reauth import recent_confirmation
from auditflow.http.report_files import report_response
from auditflow.models import AccessKind, Audit, IssuedReport, ReportJob
from auditflow.params import MAX_PAGE, small_int
from auditflow.permissions import Capability
from auditflow.reports import FORMAT_LABELS, FORMATS, available_formats, writer
from auditflow.reports.content import CONTENT_TYPES, build_report
from auditflow.reports.summary import latest_audit
from auditflow.reports.summary_page import SummaryPage, summary_page
from auditflow.services import edition_diff, report_jobs, verification
from auditflow.services.access_log import record_access
from auditflow.services.issuing import edition_label, issued_file, issued_versions
from auditflow.storage import content_disposition
from auditflow.storage.transactional import file_store
from auditflow.web import parts
from auditflow.web.forms import options
from auditflow.web.summary.forms import (
    CompareForm,
    DownloadForm,
    IssueForm,
    SummaryFilterForm,
    VerifyForm,
)

bp = Blueprint("summary", __name__)


@bp.get("/summary")
@require(Capability.VIEW_REPORTS)
def index() -> Any:
    form = SummaryFilterForm(request.args)
    form.fill_choices()
    if not form.validate():
        return render_template("summary/index.html", form=form, shown=None), 400
    audit = _audit_from(form.audit.data)
    if audit is None:
        return render_template("summary/index.html", form=form, shown=None)
    form.audit.data = str(audit.id)
    as_of = form.as_of.data or dates.today()
    if as_of > dates.today():
        form.as_of.errors = ["기준일은 오늘 이후일 수 없습니다."]
        return render_template("summary/index.html", form=form, shown=None), 400
    form.as_of.data = as_of
    # On unless the page's own form was sent with the box cleared.
    include = bool(form.due_changes.data) if request.args.get("chosen") else True
    form.due_changes.data = include
    form.chosen.data = "1"  # the form is drawn from what the key holds only (web.parts)
    choice = "1" if include else "0"
    issue_form = IssueForm(data={"as_of": as_of, "due_changes": choice})
    where: dict[str, Any] = {"audit": audit.id, "as_of": as_of.isoformat(), **_choice(include)}
    section = request.args.get("section")
    after, before = small_int(request.args.get("after")), small_int(request.args.get("before"))
    number = small_int(request.args.get("page"), maximum=MAX_PAGE) or 1

    def draw() -> _Shown:
        # The table at once, one category's items a page at a time: never the whole audit
        # (the printable report and the files have it all).
        report = summary_page(audit, as_of, section, after=after, before=before, number=number)
        tab_urls = {tab.category.value: url_for(".index", **where, section=tab.category.value,
                                                _anchor="items-title") for tab in report.tabs}
        template = "summary/_report.html"
        return _Shown(
            filters=parts.macro(template, "filters")(form),
            head=parts.macro(template, "report_head")(report),
            items=parts.macro(template, "report_items")(report, tab_urls, _pager(report, where),
                                                        include),
            title=report.title, reference_label=report.reference_label, total=report.total,
            file_names={fmt: report.file_name(fmt) for fmt in FORMATS})

    # The audit's own words change without history: they are part of the key.
    shown = parts.kept((audit.id, audit.title, audit.body, audit.organisation,
                        audit.received_on, audit.reference_date, as_of, include, section,
                        after, before, number), draw)
    formats = available_formats()
    by_worker = [fmt for fmt in formats if report_jobs.needs_job(fmt, shown.total)]
    return render_template(
        "summary/index.html",
        form=form,
        due_changes=choice,
        shown=shown,
        audit_id=audit.id,
        as_of=as_of,
        include_due_changes=include,
        print_url=None if report_jobs.needs_job("html", shown.total)
        else url_for(".printable", audit_id=audit.id, as_of=as_of.isoformat(),
                     due_changes=choice),
        formats=[(fmt, FORMAT_LABELS[fmt]) for fmt in formats],
        # Formats too large to make inside a request: a button each that asks the worker,
        # the format its value, over the one form's day, choice and token.
        by_worker=by_worker,
        download_form=DownloadForm(data={"as_of": as_of, "due_changes": choice})
        if by_worker else None,
        missing_formats=[FORMAT_LABELS[fmt] for fmt in FORMATS if fmt not in formats],
        issued=issued_versions(audit),
        issue_form=issue_form if viewer().can(Capability.ISSUE_REPORTS) else None,
        edition_label=edition_label,
        jobs=[report_jobs.status(job) for job in _jobs_to_show(audit)],
    )


@dataclass(frozen=True)
class _Shown:
    """The summary page's kept parts (``summary/_report.html``) and what the rest of the page
    says of the report."""

    filters: Markup
    head: Markup
    items: Markup
    title: str
    reference_label: str
    total: int
    file_names: dict[str, str]  # by format, as the report names its files


def _pager(report: SummaryPage, where: dict[str, Any]) -> dict[str, str | None]:
    """The links of ``macros/ui.html`` ``keyset_pagination`` for the section shown."""
    if report.section is None:
        return {"first": None, "prev": None, "next": None, "last": None}
    page = report.page
    section = {**where, "section": report.section.category.value, "_anchor": "items-title"}
    return {
        "first": url_for(".index", **section),
        "prev": url_for(".index", **section, page=page.number - 1, before=page.prev_before)
        if page.prev_before else None,
        "next": url_for(".index", **section, page=page.number + 1, after=page.next_after)
        if page.next_after else None,
        "last": None,
    }


@bp.get("/summary/<int:audit_id>/print")
@require(Capability.VIEW_REPORTS)
def printable(audit_id: int) -> Any:
    """The whole report to print: the printable HTML, shown in the browser, which prints it
    (static/print.js) as the PDF pages it."""
    audit = db.session.get(Audit, audit_id) or abort(404)
    as_of = _date_arg("as_of") or dates.today()
    if as_of > dates.today():
        raise DomainError("기준일은 오늘 이후일 수 없습니다.", code="as_of_in_future")
    items = report_jobs.report_items(audit, as_of)  # counted: built only if made here
    if report_jobs.needs_job("html", items):
        flash(f"요구사항이 {items}건이라 인쇄용 보고서는 따로 만듭니다. "
              "'인쇄용 HTML 파일 만들기'를 눌러 내려받은 뒤 인쇄하세요.", "info")
        return redirect(url_for(".index", audit=audit.id, as_of=as_of.isoformat(),
                                _anchor="downloads-title"), code=303)
    report = build_report(audit, as_of, include_due_changes=request.args.get("due_changes") != "0")
    with tempfile.TemporaryDirectory(prefix="auditflow-print-") as folder:
        path = Path(folder) / "report.html"
        writer("html")(report, path)
        document = path.read_text(encoding="utf-8")
    script = f'<script src="{url_for("ui.static", filename="print.js")}" defer></script>'
    response = Response(document.replace("</head>", f"{script}</head>", 1),
                        content_type=CONTENT_TYPES["html"])
    response.headers["Cache-Control"] = "private, no-store"
    # The report carries its stylesheet inside it: that one inline style, and no other.
    response.headers["Content-Security-Policy"] = security.policy_for_own_styles(document)
    return response


def _jobs_to_show(audit: Audit) -> list[ReportJob]:
    """The audit's jobs under way, and the one this page was sent back to (?job=) however
    it ended, so the person who asked sees how it came out."""
    shown = report_jobs.active_for(audit)
    raw = request.args.get("job", "")
    if raw.isdigit() and all(job.id != int(raw) for job in shown):
        asked = report_jobs.load(int(raw))
        if asked is not None and asked.audit_id == audit.id:
            shown.append(asked)
    return shown


@bp.get("/summary/<int:audit_id>/report.<fmt>")
@require(Capability.VIEW_REPORTS)
def download(audit_id: int, fmt: str) -> Any:
    audit = db.session.get(Audit, audit_id) or abort(404)
    as_of = _date_arg("as_of") or dates.today()
    if as_of > dates.today():
        raise DomainError("기준일은 오늘 이후일 수 없습니다.", code="as_of_in_future")
    write = writer(fmt)  # FormatUnavailable: 404 with its Korean message
    include = request.args.get("due_changes") != "0"
    items = report_jobs.report_items(audit, as_of)  # counted: built only if made here
    if report_jobs.needs_job(fmt, items):
        # Too large to make while the browser waits: the page offers the worker's button.
        flash(f"요구사항이 {items}건이라 {FORMAT_LABELS[fmt]} 파일은 따로 만듭니다. "
              f"'{FORMAT_LABELS[fmt]} 파일 만들기'를 누르면 다 되는 대로 내려받을 수 있습니다.", "info")
        where: dict[str, Any] = {"audit": audit.id, "as_of": as_of.isoformat(), **_choice(include)}
        return redirect(url_for(".index", **where, _anchor="downloads-title"), code=303)
    report = build_report(audit, as_of, include_due_changes=include)
    return report_response(report, write, fmt,
                           target=f"audit {audit.id} report.{fmt} as of {as_of.isoformat()}")


@bp.post("/summary/<int:audit_id>/issue")
@require(Capability.ISSUE_REPORTS)
@recent_confirmation
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
    started = report_jobs.start_issue(audit, form.as_of.data, actor(),
                                      include_due_changes=form.due_changes.data != "0")
    day = dates.short(started.job.as_of)
    return _to_job(started, where,
                   joined=f"{day} 기준 발행이 이미 진행 중이어서 그 작업의 진행 상황을 보여 드립니다. "
                          "같은 판이 두 번 발행되지 않습니다.",
                   begun=f"{day} 기준 발행을 시작했습니다. 파일을 만드는 동안 이 화면을 계속 쓸 수 "
                         "있고, 다 되면 아래에 파일이 나타납니다.")


def _to_job(started: report_jobs.Started, where: dict[str, Any], *, joined: str,
            begun: str) -> Any:
    """Back to the page at the job's row, saying whether it was begun or joined (a second
    click joins the job under way)."""
    if started.joined:
        flash(joined, "info")
    else:
        flash(begun, "success")
    return redirect(url_for(".index", **where, job=started.job.id, _anchor=f"job-{started.job.id}"),
                    code=303)


@bp.post("/summary/<int:audit_id>/downloads")
@require(Capability.VIEW_REPORTS)
def request_download(audit_id: int) -> Any:
    """A large report's file, made by the worker; the page shows it coming."""
    audit = db.session.get(Audit, audit_id) or abort(404)
    form = DownloadForm()
    as_of = form.as_of.data if isinstance(form.as_of.data, date) else None
    include = form.due_changes.data != "0"
    where: dict[str, Any] = {"audit": audit.id, **({"as_of": as_of.isoformat()} if as_of else {}),
                             **_choice(include)}
    return_to(url_for(".index", **where))
    if not form.validate_on_submit() or as_of is None:
        message = " ".join(error for errors in form.errors.values() for error in errors)
        raise DomainError(message or "파일을 만들 수 없습니다.", code="download_invalid")
    fmt = str(form.fmt.data)
    started = report_jobs.start_download(audit, as_of, fmt, actor(), include_due_changes=include)
    label = FORMAT_LABELS[fmt]
    return _to_job(started, where,
                   joined=f"같은 {label} 파일을 이미 만들고 있어 그 작업의 진행 상황을 보여 드립니다.",
                   begun=f"{label} 파일을 만들기 시작했습니다. 다 되면 아래에 내려받기 단추가 "
                         "나타납니다.")


@bp.get("/summary/jobs/<int:job_id>")
@require(Capability.VIEW_REPORTS)
def job(job_id: int) -> Any:
    """The job on a page of its own: where it stands, looked at again by a link."""
    found = report_jobs.load(job_id) or abort(404)
    return render_template("summary/job.html", status=report_jobs.status(found))


@bp.get("/summary/jobs/<int:job_id>/status")
@require(Capability.VIEW_REPORTS)
def job_status(job_id: int) -> Response:
    """Where the job stands, for app.js: the bar, the Korean sentence, and the page's parts."""
    found = report_jobs.load(job_id) or abort(404)
    status = report_jobs.status(found)
    job_steps = get_template_attribute("summary/_jobs.html", "job_steps")
    job_result = get_template_attribute("summary/_jobs.html", "job_result")
    body: dict[str, Any] = {
        "id": found.id,
        "kind": found.kind,
        "state": found.state,
        "state_label": found.state_enum.label,
        "finished": status.finished,
        "value": status.value,
        "max": status.maximum,
        "percent": status.percent,
        "text": status.text,
        "error": found.error,
        "steps": [{"format": step.format, "label": step.label, "state": step.state,
                   "done": step.done, "total": step.total} for step in status.steps],
        "steps_html": str(job_steps(status)),
        "result_html": str(job_result(status)),
    }
    if status.issued is not None:
        issued_table = get_template_attribute("summary/_jobs.html", "issued_table")
        body["issued_html"] = str(issued_table(found.audit_id, issued_versions(found.audit),
                                               edition_label, found.as_of))
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/summary/jobs/<int:job_id>/file")
@require(Capability.VIEW_REPORTS)
def job_file(job_id: int) -> Response:
    """The file a download job made (kept for REPORT_DOWNLOAD_KEEP_HOURS)."""
    found = report_jobs.load(job_id) or abort(404)
    if found.file_key is None or found.file_name is None:
        raise NotFound("아직 만들어진 파일이 없습니다.", code="job_file_not_ready")
    gone = NotFound("보관 기간이 지나 파일을 지웠습니다. 처리결과 총괄에서 다시 만드세요.",
                    code="job_file_gone")
    if not file_store().exists(found.file_key):
        raise gone
    record_access(AccessKind.REPORT_DOWNLOAD, target=f"job {job_id} {found.file_name}")
    try:
        response = send_stored(
            found.file_key, mimetype=report_jobs.download_content_type(found).split(";")[0],
            conditional=True, etag=found.file_sha256 or False, max_age=0)
    except FileNotFoundError:
        raise gone from None
    response.headers["Content-Disposition"] = content_disposition(found.file_name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/summary/<int:audit_id>/issued/<int:issued_id>/verify")
@require(Capability.VIEW_REPORTS)
def verify_edition(audit_id: int, issued_id: int) -> Any:
    """검증: the worker makes the edition again and compares; the page shows it coming."""
    edition = _edition(audit_id, issued_id)
    form = VerifyForm()
    as_of = form.as_of.data if isinstance(form.as_of.data, date) else edition.as_of
    where: dict[str, Any] = {"audit": audit_id, "as_of": as_of.isoformat()}
    return_to(url_for(".index", **where, _anchor="issued-title"))
    if not form.validate_on_submit():
        raise DomainError("검증할 수 없습니다. 화면을 새로 고친 뒤 다시 누르세요.",
                          code="verify_invalid")
    started = report_jobs.start_verify(edition, actor())
    label = edition_label(edition)
    return _to_job(started, where,
                   joined=f"{label} 검증이 이미 진행 중이어서 그 작업의 진행 상황을 보여 드립니다.",
                   begun=f"{label} 검증을 시작했습니다. 이력으로 파일을 다시 만들어 발행 기록·보관 "
                         "파일과 비교합니다. 다 되면 아래에 결과가 나타납니다.")


@bp.get("/summary/<int:audit_id>/issued/compare")
@require(Capability.VIEW_REPORTS)
def compare_editions(audit_id: int) -> Any:
    """판 비교: what changed, item by item, between two editions of the audit."""
    audit = db.session.get(Audit, audit_id) or abort(404)
    editions = issued_versions(audit)
    form = CompareForm(request.args)
    choices = options((str(edition.id), f"{edition_label(edition)} ({dates.short(edition.as_of)} 기준)")
                      for edition in editions)
    form.older.choices = choices
    form.newer.choices = choices
    compared = None
    status = 200
    if not request.args and len(editions) > 1:  # offered first: the latest and the one before
        form.older.data, form.newer.data = str(editions[1].id), str(editions[0].id)
    if request.args:
        if form.validate():
            compared = edition_diff.compare(_edition(audit_id, int(str(form.older.data))),
                                            _edition(audit_id, int(str(form.newer.data))))
        else:
            status = 400
    return render_template("summary/compare.html", audit=audit, form=form, compared=compared,
                           editions=editions, edition_label=edition_label), status


def _edition(audit_id: int, issued_id: int) -> IssuedReport:
    """An edition of this audit, or 404 with its message."""
    edition = verification.find_edition(issued_id)
    if edition.audit_id != audit_id:
        raise NotFound("이 감사의 판이 아닙니다. 발행 이력에서 다시 고르세요.",
                       code="edition_not_found")
    return edition


@bp.get("/summary/<int:audit_id>/issued/<int:issued_id>/<fmt>")
@require(Capability.VIEW_REPORTS)
def issued_download(audit_id: int, issued_id: int, fmt: str) -> Response:
    row = issued_file(audit_id, issued_id, fmt)  # NotFound: 404 with its message
    record_access(AccessKind.REPORT_DOWNLOAD, target=f"issued {issued_id} {row.file_name}")
    # The stored bytes as they were issued; the ETag is their SHA-256.
    try:
        response = send_stored(row.storage_key, mimetype=row.content_type.split(";")[0],
                               conditional=True, etag=row.sha256, max_age=0)
    except FileNotFoundError:
        raise NotFound("발행된 파일이 저장소에 없습니다. 관리자에게 알려 주세요.",
                       code="issued_file_missing") from None
    response.headers["Content-Disposition"] = content_disposition(row.file_name)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _choice(include: bool) -> dict[str, str]:
    """The page's query for its 기한 변경 내역 choice: on is the default, off is said."""
    return {} if include else {"chosen": "1"}


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
