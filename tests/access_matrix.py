"""Who may do what, for every route: the table tests/test_access_matrix.py runs.

HOW TO ADD YOUR ENDPOINT (every engineer who adds a route must):
    MATRIX[("blueprint.endpoint", "METHOD")] = Case(
        url=lambda w: f"/path/{w.rec.id}",          # built from the World below
        expect=row(audit=..., own_team=..., other_team=..., liaison=..., admin=...,
                   anonymous=...),
        data=lambda w: {"field": "value"},           # POST only: form fields (no csrf_token)
        state="in_progress",                         # the item's state before the request
        setup=lambda w: ...,                         # optional: make more (evidence, users)
    )
  One entry per endpoint AND method (GET and POST of one route are two entries).
  ``test_every_route_is_in_the_matrix`` fails when a route in ``app.url_map`` has
  none (static and asset routes excepted).

OUTCOMES, per actor:
  200, 400, 401, 403, 404, 409 ... the exact status code;
  LOGIN    a redirect to the sign-in page (signed out);
  REDIRECT a redirect elsewhere (e.g. a GET page that sends you on);
  CHANGED  (POST) accepted: 2xx/3xx but not to the sign-in page, and the database
           differs afterwards.
  For a POST, every outcome other than CHANGED also asserts that the database is
  unchanged: the item, its supporting teams, and the row count of every table.

ACTORS: audit (감사팀), own_team (department user of the item's lead team),
other_team (department user of another team), liaison, admin, anonymous.
POSTs carry a valid CSRF token (CSRF stays on), so a refusal is the access rule,
not the token. JSON posts (``json=True``) send the token in X-CSRFToken.

THE WORLD (``World``): a fresh database per case, made with tests/factories.py:
  w.rec       a recommendation of w.audit, lead team w.own, in ``state`` (default
              "received"); w.other is a team not assigned to it
  w.users     {actor: User}; every factory user's password is factories.PASSWORD
  w.extra     whatever ``setup`` put there (e.g. w.extra["evidence_id"])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.factories import PASSWORD

ACTORS = ("audit", "own_team", "other_team", "liaison", "admin", "anonymous")
LOGIN = "login"
REDIRECT = "redirect"
CHANGED = "changed"


@dataclass
class World:
    audit: Any
    own: Any
    other: Any
    rec: Any
    users: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    url: Callable[[World], str]
    expect: dict[str, Any]
    data: Callable[[World], dict[str, Any]] | None = None
    json: bool = False
    state: str = "received"
    setup: Callable[[World], None] | None = None


def row(*, audit: Any, own_team: Any, other_team: Any, liaison: Any, admin: Any,
        anonymous: Any) -> dict[str, Any]:
    return {"audit": audit, "own_team": own_team, "other_team": other_team,
            "liaison": liaison, "admin": admin, "anonymous": anonymous}


def everyone(outcome: Any, *, anonymous: Any = LOGIN) -> dict[str, Any]:
    return row(audit=outcome, own_team=outcome, other_team=outcome, liaison=outcome,
               admin=outcome, anonymous=anonymous)


def _rec(path: str = "") -> Callable[[World], str]:
    return lambda w: f"/recommendations/{w.rec.id}{path}"


def _version(w: World, **fields: Any) -> dict[str, Any]:
    return {"version": str(w.rec.version), **fields}


# Reading an item: readers see all; a department only its own team's items.
ITEM_READ = row(audit=200, own_team=200, other_team=404, liaison=200, admin=200,
                anonymous=LOGIN)
# Audit-team pages about an item: a department's own item is forbidden, another's not found.
ITEM_MANAGE_GET = row(audit=200, own_team=403, other_team=404, liaison=403, admin=403,
                      anonymous=LOGIN)
ITEM_MANAGE_POST = row(audit=CHANGED, own_team=403, other_team=404, liaison=403, admin=403,
                       anonymous=LOGIN)
AUDIT_ONLY_GET = row(audit=200, own_team=403, other_team=403, liaison=403, admin=403,
                     anonymous=LOGIN)
AUDIT_ONLY_POST = row(audit=CHANGED, own_team=403, other_team=403, liaison=403, admin=403,
                      anonymous=LOGIN)
# A trigger only the team may fire / only the audit team may fire.
TEAM_ACTION = row(audit=403, own_team=CHANGED, other_team=404, liaison=403, admin=403,
                  anonymous=LOGIN)
AUDIT_ACTION = row(audit=CHANGED, own_team=403, other_team=404, liaison=403, admin=403,
                   anonymous=LOGIN)

MATRIX: dict[tuple[str, str], Case] = {
    # ── home, audits ───────────────────────────────────────────────────────────
    ("home.index", "GET"): Case(url=lambda w: "/", expect=everyone(200)),
    ("audits.index", "GET"): Case(url=lambda w: "/audits", expect=AUDIT_ONLY_GET),
    ("audits.new", "GET"): Case(url=lambda w: "/audits/new", expect=AUDIT_ONLY_GET),
    ("audits.new", "POST"): Case(
        url=lambda w: "/audits/new",
        data=lambda w: {"year": "2026", "title": "2026 행정사무감사", "body": "서울특별시의회",
                        "organisation": "서울AI재단", "received_on": "2026-11-10",
                        "reference_date": ""},
        expect=AUDIT_ONLY_POST,
    ),
    ("audits.edit", "GET"): Case(url=lambda w: f"/audits/{w.audit.id}/edit",
                                 expect=AUDIT_ONLY_GET),
    ("audits.edit", "POST"): Case(
        url=lambda w: f"/audits/{w.audit.id}/edit",
        data=lambda w: {"year": str(w.audit.year), "title": w.audit.title + " (수정)",
                        "body": w.audit.body, "organisation": w.audit.organisation,
                        "received_on": "", "reference_date": ""},
        expect=AUDIT_ONLY_POST,
    ),
    # 가져오기: the template; the upload answers the preview (nothing written until confirmed);
    # a confirmation whose preview token is not this user's is sent back with the message.
    ("audits.import_template", "GET"): Case(url=lambda w: "/audits/import-template.xlsx",
                                            expect=AUDIT_ONLY_GET),
    ("audits.import_items", "GET"): Case(url=lambda w: f"/audits/{w.audit.id}/import",
                                         expect=AUDIT_ONLY_GET),
    ("audits.import_items", "POST"): Case(
        url=lambda w: f"/audits/{w.audit.id}/import",
        data=lambda w: {"file": (_import_file(w), "목록.xlsx")},
        expect=row(audit=200, own_team=403, other_team=403, liaison=403, admin=403,
                   anonymous=LOGIN)),
    ("audits.import_confirm", "POST"): Case(
        url=lambda w: f"/audits/{w.audit.id}/import/confirm",
        data=lambda w: {"sealed": "forged", "confirm": "y"},
        expect=row(audit=REDIRECT, own_team=403, other_team=403, liaison=403, admin=403,
                   anonymous=LOGIN)),
    # ── recommendations ────────────────────────────────────────────────────────
    ("recommendations.bulk", "POST"): Case(
        url=lambda w: f"/recommendations/bulk?audit={w.audit.id}",
        data=lambda w: {"ids": [str(w.rec.id)], f"v{w.rec.id}": str(w.rec.version),
                        "action": "due_date", "due_date": _later(30), "confirm": "y"},
        expect=row(audit=CHANGED, own_team=403, other_team=403, liaison=403, admin=403,
                   anonymous=LOGIN)),
    # The filtered list as a file: whoever may read the list, each seeing only their items.
    ("recommendations.export", "GET"): Case(url=lambda w: "/recommendations/export.xlsx",
                                            expect=everyone(200)),
    ("recommendations.index", "GET"): Case(url=lambda w: "/recommendations",
                                           expect=everyone(200)),
    ("recommendations.new", "GET"): Case(url=lambda w: "/recommendations/new",
                                         expect=AUDIT_ONLY_GET),
    ("recommendations.new", "POST"): Case(
        url=lambda w: "/recommendations/new",
        data=lambda w: {"audit": str(w.audit.id), "number": "900", "category": "suggestion",
                        "council_text": "새 요구사항", "lead_team": str(w.own.id),
                        "due_date": ""},
        expect=AUDIT_ONLY_POST,
    ),
    ("recommendations.detail", "GET"): Case(url=_rec(), expect=ITEM_READ),
    ("recommendations.edit", "GET"): Case(url=_rec("/edit"), expect=ITEM_MANAGE_GET),
    ("recommendations.edit", "POST"): Case(
        url=_rec("/edit"),
        data=lambda w: _version(w, category="corrective", council_text="고친 요구사항",
                                reason="오기 정정"),
        expect=ITEM_MANAGE_POST,
    ),
    ("recommendations.assign", "GET"): Case(url=_rec("/assign"), expect=ITEM_MANAGE_GET),
    ("recommendations.assign", "POST"): Case(
        url=_rec("/assign"),
        data=lambda w: _version(w, lead_team=str(w.own.id), supporting_teams=[str(w.other.id)],
                                reason="협조 부서 추가"),
        expect=ITEM_MANAGE_POST,
    ),
    ("recommendations.due_date", "GET"): Case(url=_rec("/due-date"), expect=ITEM_MANAGE_GET),
    ("recommendations.due_date", "POST"): Case(
        url=_rec("/due-date"), data=lambda w: _version(w, due_date="2027-03-31", reason=""),
        expect=ITEM_MANAGE_POST,
    ),
    ("recommendations.result", "POST"): Case(
        url=_rec("/result"), state="in_progress",
        data=lambda w: _version(w, action_details="ㅇ 새 추진내용\n  - 세부", future_plan=""),
        # in progress: the team writes; the audit team may too (it edits in review as well)
        expect=row(audit=CHANGED, own_team=CHANGED, other_team=404, liaison=403, admin=403,
                   anonymous=LOGIN),
    ),
    ("recommendations.action", "POST"): Case(
        url=_rec("/actions/start"), data=lambda w: _version(w), expect=TEAM_ACTION,
    ),
    ("recommendations.comment", "POST"): Case(
        url=_rec("/comments"), data=lambda w: {"body": "확인 부탁드립니다."},
        expect=row(audit=CHANGED, own_team=CHANGED, other_team=404, liaison=403, admin=403,
                   anonymous=LOGIN),
    ),
    # ── JSON API: see API_MATRIX below ─────────────────────────────────────────
}

# Every workflow trigger through the page's form, each in a state where it applies.
TRIGGER_CASES: dict[str, Case] = {
    "start": Case(url=_rec("/actions/start"), data=lambda w: _version(w), expect=TEAM_ACTION),
    "submit": Case(url=_rec("/actions/submit"), state="in_progress",
                   data=lambda w: _version(w), expect=TEAM_ACTION),
    "approve": Case(url=_rec("/actions/approve"), state="reviewing",
                    data=lambda w: _version(w, reason="증빙 없이 승인"), expect=AUDIT_ACTION),
    "return_for_rework": Case(url=_rec("/actions/return_for_rework"), state="reviewing",
                              data=lambda w: _version(w, reason="보완 바람"), expect=AUDIT_ACTION),
    "decline": Case(url=_rec("/actions/decline"), state="reviewing",
                    data=lambda w: _version(w, reason="반영 불가", confirm="y"),
                    expect=AUDIT_ACTION),
    "reopen": Case(url=_rec("/actions/reopen"), state="completed",
                   data=lambda w: _version(w, reason="다시 추진", confirm="y"),
                   expect=AUDIT_ACTION),
}


# ── rows of the other blueprints ─────────────────────────────────────────────
# Drafted by the pages engineer from each blueprint's code and task; their owners
# keep them true when the rules change.
def _evidence(w: World) -> None:
    """One stored file on the item, uploaded by the item's team."""
    import io

    from auditflow.services import evidence as evidence_ops

    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    evidence = evidence_ops.upload(w.rec, w.users["own_team"], io.BytesIO(pdf), "증빙.pdf")
    w.extra["evidence_id"] = evidence.id


MATRIX.update({
    ("auth.login", "GET"): Case(
        url=lambda w: "/login",
        # signed in: sent on to the home page
        expect=everyone(REDIRECT, anonymous=200),
    ),
    ("auth.login", "POST"): Case(
        url=lambda w: "/login", data=lambda w: {"login": "nobody", "password": "wrong"},
        # a refused sign-in answers the form again; it changes nothing but the attempt log
        expect=everyone(200, anonymous=200),
    ),
    ("auth.logout", "POST"): Case(
        url=lambda w: "/logout",
        # signing out ends this device's server-side session (a copied cookie stops working)
        expect=everyone(CHANGED, anonymous=LOGIN),
    ),
    # '로그인 유지': the request itself renews the idle limit (the cookie; the session row's last
    # use at most once a minute, which the snapshot leaves out)
    ("auth.keep_alive", "POST"): Case(url=lambda w: "/account/session", expect=everyone(200)),
    ("auth.change_password", "GET"): Case(url=lambda w: "/account/password",
                                          expect=everyone(200)),
    ("auth.change_password", "POST"): Case(
        url=lambda w: "/account/password",
        # the right current password, a new one too short: refused by the password
        # rule, the form again with the Korean message, nothing changed
        data=lambda w: {"current_password": PASSWORD, "new_password": "short",
                        "new_password_confirm": "short"},
        expect=everyone(200),
    ),
    ("admin.users", "GET"): Case(
        url=lambda w: "/admin/users",
        expect=row(audit=403, own_team=403, other_team=403, liaison=403, admin=200,
                   anonymous=LOGIN),
    ),
    ("admin.integrity_status", "GET"): Case(
        url=lambda w: "/admin/integrity",
        expect=row(audit=403, own_team=403, other_team=403, liaison=403, admin=200,
                   anonymous=LOGIN),
    ),
    ("admin.access_review_page", "GET"): Case(
        url=lambda w: "/admin/access",
        expect=row(audit=403, own_team=403, other_team=403, liaison=403, admin=200,
                   anonymous=LOGIN),
    ),
    ("admin.access_export", "GET"): Case(
        url=lambda w: "/admin/access/export.xlsx",
        expect=row(audit=403, own_team=403, other_team=403, liaison=403, admin=200,
                   anonymous=LOGIN),
    ),
    ("admin.create_user", "GET"): Case(
        url=lambda w: "/admin/users/new",
        expect=row(audit=403, own_team=403, other_team=403, liaison=403, admin=200,
                   anonymous=LOGIN),
    ),
    ("admin.create_user", "POST"): Case(
        url=lambda w: "/admin/users/new",
        data=lambda w: {"login": "newcomer", "name": "새 사용자", "role": "liaison", "team": "",
                        # not the login ("newcomer"): the rule refuses one's own login
                        "password": "Arrival-maple-2025!",
                        "password_confirm": "Arrival-maple-2025!"},
        expect=row(audit=403, own_team=403, other_team=403, liaison=403, admin=CHANGED,
                   anonymous=LOGIN),
    ),
    ("admin.edit_user", "GET"): Case(
        url=lambda w: f"/admin/users/{w.users['liaison'].id}/edit",
        expect=row(audit=403, own_team=403, other_team=403, liaison=403, admin=200,
                   anonymous=LOGIN),
    ),
    ("admin.edit_user", "POST"): Case(
        url=lambda w: f"/admin/users/{w.users['liaison'].id}/edit",
        data=lambda w: {"name": "이름 바꿈", "role": "liaison", "team": ""},
        expect=row(audit=403, own_team=403, other_team=403, liaison=403, admin=CHANGED,
                   anonymous=LOGIN),
    ),
    ("admin.reset_password", "GET"): Case(
        url=lambda w: f"/admin/users/{w.users['liaison'].id}/password",
        expect=row(audit=403, own_team=403, other_team=403, liaison=403, admin=200,
                   anonymous=LOGIN),
    ),
    ("admin.reset_password", "POST"): Case(
        url=lambda w: f"/admin/users/{w.users['liaison'].id}/password",
        data=lambda w: {"password": "Another-pass-2025!", "password_confirm": "Another-pass-2025!"},
        expect=row(audit=403, own_team=403, other_team=403, liaison=403, admin=CHANGED,
                   anonymous=LOGIN),
    ),
    ("admin.set_active", "GET"): Case(
        url=lambda w: f"/admin/users/{w.users['liaison'].id}/active",
        expect=row(audit=403, own_team=403, other_team=403, liaison=403, admin=200,
                   anonymous=LOGIN),
    ),
    ("admin.set_active", "POST"): Case(
        url=lambda w: f"/admin/users/{w.users['other_team'].id}/active",
        data=lambda w: {"confirm": "y"},
        expect=row(audit=403, own_team=403, other_team=403, liaison=403, admin=CHANGED,
                   anonymous=LOGIN),
    ),
    ("admin.unlock", "POST"): Case(
        url=lambda w: f"/admin/users/{w.users['liaison'].id}/unlock",
        data=lambda w: {},
        expect=row(audit=403, own_team=403, other_team=403, liaison=403, admin=REDIRECT,
                   anonymous=LOGIN),
    ),
    ("evidence.upload", "POST"): Case(
        url=_rec("/evidence"),
        data=lambda w: {"files": (__import__("io").BytesIO(
            b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"), "결과 보고.pdf")},
        expect=row(audit=403, own_team=CHANGED, other_team=404, liaison=403, admin=403,
                   anonymous=LOGIN),
    ),
    ("evidence.download", "GET"): Case(
        # The first download of a session asks for its reason first (tests/test_access_log.py).
        url=lambda w: f"/evidence/{w.extra['evidence_id']}/download", setup=_evidence,
        expect=row(audit=REDIRECT, own_team=REDIRECT, other_team=404, liaison=REDIRECT,
                   admin=REDIRECT, anonymous=LOGIN),
    ),
    ("evidence.download_reason", "GET"): Case(
        url=lambda w: f"/evidence/{w.extra['evidence_id']}/reason", setup=_evidence,
        expect=ITEM_READ,
    ),
    ("evidence.download_reason", "POST"): Case(
        url=lambda w: f"/evidence/{w.extra['evidence_id']}/reason", setup=_evidence,
        data=lambda w: {"reason": "처리결과 검토"},
        expect=row(audit=REDIRECT, own_team=REDIRECT, other_team=404, liaison=REDIRECT,
                   admin=REDIRECT, anonymous=LOGIN),
    ),
    ("evidence.delete", "POST"): Case(
        url=lambda w: f"/evidence/{w.extra['evidence_id']}/delete", setup=_evidence,
        data=lambda w: {"confirm": "y"},
        expect=row(audit=403, own_team=CHANGED, other_team=404, liaison=403, admin=403,
                   anonymous=LOGIN),
    ),
})

# ── status: 부서별 현황, open items of every audit (readers only) ─────────────────
READERS_ONLY_GET = row(audit=200, own_team=403, other_team=403, liaison=200, admin=200,
                       anonymous=LOGIN)
MATRIX.update({
    ("status.teams", "GET"): Case(url=lambda w: f"/status/teams?audit={w.audit.id}",
                                  expect=READERS_ONLY_GET),
    ("status.open_list", "GET"): Case(url=lambda w: "/status/open", expect=READERS_ONLY_GET),
})


# ── summary: 처리결과 총괄, downloads, issued versions (readers; issuing: liaison, audit) ──
def _issued(w: World) -> None:
    """One issued version of the world's audit, as of today."""
    from auditflow import dates
    from auditflow.services.issuing import issue

    w.extra["issued_id"] = issue(w.audit, dates.today(), w.users["liaison"]).issued.id


def _today() -> str:
    from auditflow import dates

    return dates.today().isoformat()


MATRIX.update({
    ("summary.index", "GET"): Case(url=lambda w: f"/summary?audit={w.audit.id}",
                                   expect=READERS_ONLY_GET),
    ("summary.download", "GET"): Case(url=lambda w: f"/summary/{w.audit.id}/report.csv",
                                      expect=READERS_ONLY_GET),
    ("summary.printable", "GET"): Case(url=lambda w: f"/summary/{w.audit.id}/print",
                                       expect=READERS_ONLY_GET),
    ("summary.issue_report", "POST"): Case(
        url=lambda w: f"/summary/{w.audit.id}/issue",
        data=lambda w: {"as_of": _today(), "confirm": "y"},
        expect=row(audit=CHANGED, own_team=403, other_team=403, liaison=CHANGED, admin=403,
                   anonymous=LOGIN),
    ),
    ("summary.issued_download", "GET"): Case(
        url=lambda w: f"/summary/{w.audit.id}/issued/{w.extra['issued_id']}/csv",
        setup=_issued, expect=READERS_ONLY_GET,
    ),
    # 검증 asks the worker for a verify job (a row): every reader may, no department.
    ("summary.verify_edition", "POST"): Case(
        url=lambda w: f"/summary/{w.audit.id}/issued/{w.extra['issued_id']}/verify",
        setup=_issued, data=lambda w: {},
        expect=row(audit=CHANGED, own_team=403, other_team=403, liaison=CHANGED, admin=CHANGED,
                   anonymous=LOGIN),
    ),
    ("summary.compare_editions", "GET"): Case(
        url=lambda w: (f"/summary/{w.audit.id}/issued/compare?older={w.extra['issued_id']}"
                       f"&newer={w.extra['issued_id']}"),
        setup=_issued, expect=READERS_ONLY_GET,
    ),
})


# ── summary: report jobs (발행 and large downloads made by the worker; readers) ───────
def _download_made(w: World) -> None:
    """A download job of the world's audit, made by a worker (its file stored)."""
    from auditflow import dates
    from auditflow.extensions import db
    from auditflow.services import report_jobs

    job = report_jobs.start_download(w.audit, dates.today(), "csv", w.users["liaison"]).job
    db.session.flush()
    claimed = report_jobs.claim(job.id)
    assert claimed is not None
    report_jobs.run(claimed)
    w.extra["job_id"] = job.id


MATRIX.update({
    ("summary.request_download", "POST"): Case(
        url=lambda w: f"/summary/{w.audit.id}/downloads",
        data=lambda w: {"fmt": "csv", "as_of": _today(), "due_changes": "1"},
        expect=row(audit=CHANGED, own_team=403, other_team=403, liaison=CHANGED, admin=CHANGED,
                   anonymous=LOGIN),
    ),
    ("summary.job", "GET"): Case(url=lambda w: f"/summary/jobs/{w.extra['job_id']}",
                                 setup=_download_made, expect=READERS_ONLY_GET),
    ("summary.job_status", "GET"): Case(url=lambda w: f"/summary/jobs/{w.extra['job_id']}/status",
                                        setup=_download_made, expect=READERS_ONLY_GET),
    ("summary.job_file", "GET"): Case(url=lambda w: f"/summary/jobs/{w.extra['job_id']}/file",
                                      setup=_download_made, expect=READERS_ONLY_GET),
})


# ── notifications: each user has their own ────────────────────────────────────
def _notified(w: World) -> None:
    """One unread notification for every signed-in actor; the team's is about the item."""
    from auditflow.services import notifications
    from auditflow.vocabulary import NotificationKind

    for actor, user in w.users.items():
        [note] = notifications.notify(
            [user], NotificationKind.COMMENTED, title="확인 바랍니다", body="본문",
            recommendation=w.rec if actor == "own_team" else None)
        w.extra[f"notification_{actor}"] = note.id


MATRIX.update({
    ("notifications.index", "GET"): Case(url=lambda w: "/notifications", setup=_notified,
                                         expect=everyone(200)),
    # Only its own user may open a notification; to anyone else it does not exist.
    ("notifications.read", "POST"): Case(
        url=lambda w: f"/notifications/{w.extra['notification_own_team']}/read", setup=_notified,
        expect=row(audit=404, own_team=CHANGED, other_team=404, liaison=404, admin=404,
                   anonymous=LOGIN)),
    ("notifications.read_all", "POST"): Case(url=lambda w: "/notifications/read-all",
                                             setup=_notified, expect=everyone(CHANGED)),
    ("notifications.preferences", "GET"): Case(url=lambda w: "/account/notifications",
                                               expect=everyone(200)),
    ("notifications.preferences", "POST"): Case(
        url=lambda w: "/account/notifications", data=lambda w: {"email_kinds": ["digest"]},
        expect=everyone(CHANGED)),
})


# ── due-date extensions ───────────────────────────────────────────────────────
def _extension_requested(w: World) -> None:
    """The item's team has asked for a later due date; the request waits for the audit team."""
    from datetime import timedelta

    from auditflow import dates
    from auditflow.services import extensions

    request = extensions.request(w.rec, w.users["own_team"], dates.today() + timedelta(days=60),
                                 "예산 집행 일정 때문")
    w.extra["extension_id"] = request.id


MATRIX.update({
    ("recommendations.request_extension", "POST"): Case(
        url=_rec("/extensions"), state="in_progress",
        data=lambda w: _version(w, requested_due=_later(60), reason="예산 집행 일정 때문"),
        expect=row(audit=403, own_team=CHANGED, other_team=404, liaison=403, admin=403,
                   anonymous=LOGIN)),
    ("recommendations.decide_extension", "POST"): Case(
        url=lambda w: f"/recommendations/{w.rec.id}/extensions/{w.extra['extension_id']}"
                      "/approve_extension",
        state="in_progress", setup=_extension_requested,
        data=lambda w: _version(w, reason="타당함"),
        expect=row(audit=CHANGED, own_team=403, other_team=404, liaison=403, admin=403,
                   anonymous=LOGIN)),
})


# ── transfer requests (이관) ──────────────────────────────────────────────────
def _transfer_requested(w: World) -> None:
    """The item's lead team has asked to hand it to the other team; the audit team decides."""
    from auditflow.services import transfers

    request = transfers.request(w.rec, w.users["own_team"], w.other, "우리 팀 소관이 아님")
    w.extra["transfer_id"] = request.id


MATRIX.update({
    ("recommendations.request_transfer", "POST"): Case(
        url=_rec("/transfers"), state="in_progress",
        data=lambda w: _version(w, to_team=str(w.other.id), reason="우리 팀 소관이 아님"),
        expect=row(audit=403, own_team=CHANGED, other_team=404, liaison=403, admin=403,
                   anonymous=LOGIN)),
    ("recommendations.decide_transfer", "POST"): Case(
        url=lambda w: f"/recommendations/{w.rec.id}/transfers/{w.extra['transfer_id']}"
                      "/approve_transfer",
        state="in_progress", setup=_transfer_requested,
        data=lambda w: _version(w, reason="타당함"),
        expect=row(audit=CHANGED, own_team=403, other_team=404, liaison=403, admin=403,
                   anonymous=LOGIN)),
})


def _import_file(w: World) -> Any:
    """A one-item list in the import template's layout."""
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["번호", "구분", "요구사항", "주관 부서", "협조 부서", "처리 기한"])
    sheet.append([900, "건의사항", "가져온 요구사항", w.own.name, "", "2026-12-31"])
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    return out


def _later(days: int) -> str:
    from datetime import timedelta

    from auditflow import dates

    return (dates.today() + timedelta(days=days)).isoformat()


# ── JSON API v1 (/api/v1) ─────────────────────────────────────────────────────
# The same rules as the pages, answered in problem details: signed out is 401, not a
# redirect. tests/test_api_tokens.py runs these rows again with bearer tokens.
def _api(path: str = "") -> Callable[[World], str]:
    return lambda w: f"/api/v1/recommendations/{w.rec.id}{path}"


API_ITEM_READ = row(audit=200, own_team=200, other_team=404, liaison=200, admin=200,
                    anonymous=401)
API_EVERYONE = everyone(200, anonymous=401)

API_MATRIX: dict[tuple[str, str], Case] = {
    ("api_v1.audits", "GET"): Case(url=lambda w: "/api/v1/audits", expect=API_EVERYONE),
    ("api_v1.teams", "GET"): Case(url=lambda w: "/api/v1/teams", expect=API_EVERYONE),
    ("api_v1.summary", "GET"): Case(
        url=lambda w: f"/api/v1/summary?audit={w.audit.id}",
        expect=row(audit=200, own_team=403, other_team=403, liaison=200, admin=200,
                   anonymous=401)),
    ("api_v1.report_file", "GET"): Case(
        url=lambda w: f"/api/v1/audits/{w.audit.id}/report/csv",
        expect=row(audit=200, own_team=403, other_team=403, liaison=200, admin=200,
                   anonymous=401)),
    # The list: everyone may ask; each sees only the items they may (tested in test_api_v1).
    ("api_v1.recommendations", "GET"): Case(url=lambda w: "/api/v1/recommendations",
                                            expect=API_EVERYONE),
    ("api_v1.recommendation", "GET"): Case(url=_api(), expect=API_ITEM_READ),
    ("api_v1.history", "GET"): Case(url=_api("/history"), expect=API_ITEM_READ),
    ("api_v1.evidence", "GET"): Case(url=_api("/evidence"), setup=_evidence,
                                     expect=API_ITEM_READ),
    ("api_v1.upload_evidence", "POST"): Case(
        url=_api("/evidence"),
        data=lambda w: {"files": (__import__("io").BytesIO(
            b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"), "결과 보고.pdf")},
        expect=row(audit=403, own_team=CHANGED, other_team=404, liaison=403, admin=403,
                   anonymous=401)),
    ("api_v1.evidence_download", "GET"): Case(
        url=lambda w: f"/api/v1/evidence/{w.extra['evidence_id']}", setup=_evidence,
        expect=API_ITEM_READ),
    ("api_v1.comments", "GET"): Case(url=_api("/comments"), expect=API_ITEM_READ),
    ("api_v1.add_comment", "POST"): Case(
        url=_api("/comments"), json=True, data=lambda w: {"body": "확인 부탁드립니다."},
        expect=row(audit=CHANGED, own_team=CHANGED, other_team=404, liaison=403, admin=403,
                   anonymous=401)),
    ("api_v1.action", "POST"): Case(
        url=_api("/actions/approve"), json=True, state="reviewing",
        data=lambda w: {"reason": "증빙 불필요", "version": w.rec.version},
        expect=row(audit=CHANGED, own_team=403, other_team=404, liaison=403, admin=403,
                   anonymous=401)),
    ("api_v1.team_action", "POST"): Case(
        url=_api("/actions/start"), json=True,
        data=lambda w: {"version": w.rec.version},
        expect=row(audit=403, own_team=CHANGED, other_team=404, liaison=403, admin=403,
                   anonymous=401)),
}
MATRIX.update({key: case for key, case in API_MATRIX.items() if key[0] != "api_v1.team_action"})
MATRIX.update({
    # The first two endpoints' old paths send everyone on to v1 (308 keeps method and body).
    ("api.recommendation", "GET"): Case(url=lambda w: f"/api/recommendations/{w.rec.id}",
                                        expect=everyone(308, anonymous=308)),
    ("api.action", "POST"): Case(
        url=lambda w: f"/api/recommendations/{w.rec.id}/actions/approve", json=True,
        state="reviewing", data=lambda w: {"reason": "증빙 불필요", "version": w.rec.version},
        expect=everyone(308, anonymous=308)),
    # The OpenAPI document and its page say nothing of any item: open to all.
    ("api-docs.openapi_json", "GET"): Case(url=lambda w: "/api/v1/openapi.json",
                                           expect=everyone(200, anonymous=200)),
    ("api_docs.page", "GET"): Case(url=lambda w: "/api/v1/docs",
                                   expect=everyone(200, anonymous=200)),
})


# ── 내 API 토큰: each user has their own ──────────────────────────────────────
def _token(w: World) -> None:
    """A token of the item's team user; to anyone else it does not exist."""
    from auditflow.services import tokens

    w.extra["token_id"] = tokens.create(w.users["own_team"], name="보고 자동화").token.id


MATRIX.update({
    ("tokens.index", "GET"): Case(url=lambda w: "/account/tokens", expect=everyone(200)),
    ("tokens.index", "POST"): Case(
        url=lambda w: "/account/tokens", data=lambda w: {"name": "집계", "scope": "read",
                                                         "days": "30"},
        expect=everyone(CHANGED)),
    ("tokens.revoke", "POST"): Case(
        url=lambda w: f"/account/tokens/{w.extra['token_id']}/revoke", setup=_token,
        expect=row(audit=404, own_team=CHANGED, other_team=404, liaison=404, admin=404,
                   anonymous=LOGIN)),
})


def _enrolled_user(w: World) -> None:
    """One more user, with an authenticator app enrolled (for the reset): not an actor, who
    then could not sign in with the password alone."""
    import pyotp

    from auditflow.extensions import db
    from auditflow.models import utcnow
    from tests.factories import Factory

    user = Factory().user("liaison")
    user.totp_secret = pyotp.random_base32()
    user.totp_confirmed_at = utcnow()
    db.session.flush()
    w.extra["enrolled_id"] = user.id


ADMIN_ONLY_GET = row(audit=403, own_team=403, other_team=403, liaison=403, admin=200,
                     anonymous=LOGIN)

MATRIX.update({
    # The second factor. The sign-in's steps need a password given in this browser first:
    # without one, everyone goes back to the sign-in page, nothing changed.
    ("auth.second_step", "GET"): Case(url=lambda w: "/login/code",
                                      expect=everyone(LOGIN, anonymous=LOGIN)),
    ("auth.second_step", "POST"): Case(url=lambda w: "/login/code",
                                       data=lambda w: {"code": "123456"},
                                       expect=everyone(LOGIN, anonymous=LOGIN)),
    ("auth.enrol_at_sign_in", "GET"): Case(url=lambda w: "/login/enrol",
                                           expect=everyone(LOGIN, anonymous=LOGIN)),
    ("auth.enrol_at_sign_in", "POST"): Case(url=lambda w: "/login/enrol",
                                            data=lambda w: {"code": "123456"},
                                            expect=everyone(LOGIN, anonymous=LOGIN)),
    ("auth.second_factor_page", "GET"): Case(url=lambda w: "/account/second-factor",
                                             expect=everyone(200)),
    ("auth.enrol", "GET"): Case(url=lambda w: "/account/second-factor/enrol",
                                expect=everyone(200)),
    ("auth.enrol", "POST"): Case(
        url=lambda w: "/account/second-factor/enrol", data=lambda w: {"code": "123456"},
        # no enrolment begun (its page was not opened): to that page, nothing changed
        expect=everyone(REDIRECT)),
    ("auth.new_recovery_codes", "POST"): Case(
        url=lambda w: "/account/second-factor/recovery-codes", data=lambda w: {},
        # nobody here has a second factor: back to its page, nothing made
        expect=everyone(REDIRECT)),
    # 본인 확인: the right password (an attempt row, which the snapshot leaves out; the time
    # is the session's), and back to the work.
    ("auth.confirm", "GET"): Case(url=lambda w: "/account/confirm", expect=everyone(200)),
    ("auth.confirm", "POST"): Case(url=lambda w: "/account/confirm",
                                   data=lambda w: {"password": PASSWORD},
                                   expect=everyone(REDIRECT)),
    ("admin.reset_second_factor", "GET"): Case(
        url=lambda w: f"/admin/users/{w.users['liaison'].id}/second-factor",
        expect=ADMIN_ONLY_GET),
    ("admin.reset_second_factor", "POST"): Case(
        url=lambda w: f"/admin/users/{w.extra['enrolled_id']}/second-factor",
        data=lambda w: {"confirm": "y"}, setup=_enrolled_user,
        expect=row(audit=403, own_team=403, other_team=403, liaison=403, admin=CHANGED,
                   anonymous=LOGIN)),
})


# ── 로그인 기기: each user sees and ends their own sessions ───────────────────────
def _other_devices(w: World) -> None:
    """Every user is signed in on another device too; the item's team user's is named."""
    from auditflow.services import user_sessions

    for who, user in w.users.items():
        if who != "anonymous":
            row, _ = user_sessions.open_session(user, user_agent="Mozilla/5.0 (iPhone) Safari/604",
                                                address="10.0.0.9")
            w.extra[f"session_{who}"] = row.id
    w.extra["session_id"] = w.extra["session_own_team"]


MATRIX.update({
    ("devices.index", "GET"): Case(url=lambda w: "/account/devices", expect=everyone(200)),
    ("devices.end_one", "POST"): Case(
        url=lambda w: f"/account/devices/{w.extra['session_id']}/end", setup=_other_devices,
        expect=row(audit=404, own_team=CHANGED, other_team=404, liaison=404, admin=404,
                   anonymous=LOGIN)),
    ("devices.end_others", "POST"): Case(
        url=lambda w: "/account/devices/end-others", setup=_other_devices,
        data=lambda w: {"confirm": "y"}, expect=everyone(CHANGED)),
})


# ── for operators' machines: no sign-in (readiness: the test database is made from the
# models, not migrated, so it is not at the migrations' head; metrics: no token set) ──────
MATRIX.update({
    ("operations.healthz", "GET"): Case(url=lambda w: "/healthz", expect=everyone(200, anonymous=200)),
    ("operations.readyz", "GET"): Case(url=lambda w: "/readyz", expect=everyone(503, anonymous=503)),
    ("operations.metrics", "GET"): Case(url=lambda w: "/metrics", expect=everyone(404, anonymous=404)),
})
