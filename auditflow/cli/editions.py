"""``flask --app auditflow report issue | verify | diff``: issued editions from the command line.

    flask --app auditflow report issue --audit 1 --as-of 2026-01-31 [--by LOGIN]
    flask --app auditflow report verify --edition ID        (or --audit 1 --edition N: 제N판)
    flask --app auditflow report diff --from ID --to ID     (or --audit 1 --from N --to M)

``issue`` asks for the same report job the 발행 button does (``report_jobs.start_issue``:
the same refusals, the same edition code) and makes it at once in this process, printing
how far it has got; a worker that finds it already taken leaves it alone. An edition is
known by its 발행 번호 (its id, shown in the page's 발행 이력), or by its number within
its audit (제N판) when ``--audit`` is given. ``verify`` exits 1 unless every file agrees;
``diff`` lists what changed item by item. Refusals print ``오류 [code]: 메시지``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from auditflow import dates
from auditflow.cli.common import DATE, committed, fail
from auditflow.errors import DomainError, NotFound
from auditflow.extensions import db
from auditflow.jobs import make_report
from auditflow.models import Audit, IssuedReport, ReportJob, User
from auditflow.permissions import Capability, roles_with
from auditflow.reports import FORMAT_LABELS
from auditflow.services import edition_diff, report_jobs, verification
from auditflow.services.issuing import edition_label


class PrintedProgress:
    """The job's progress on the terminal: each format, its items by quarters, done."""

    def __init__(self, doing: str) -> None:
        self.doing = doing  # "만드는 중", "다시 만들어 비교하는 중"
        self._shown: dict[str, int] = {}

    def begin(self, formats: Sequence[str], items: int, missing: Sequence[str]) -> None:
        labels = ", ".join(FORMAT_LABELS.get(fmt, fmt) for fmt in formats)
        click.echo(f"요구사항 {items}건, 형식 {len(formats)}개: {labels}")
        if missing:
            click.echo("만들 수 없는 형식: " + ", ".join(FORMAT_LABELS.get(f, f) for f in missing))

    def items(self, fmt: str, done: int, total: int) -> None:
        quarter = 4 * done // total if total else 4
        if quarter > self._shown.get(fmt, -1):
            self._shown[fmt] = quarter
            click.echo(f"  {FORMAT_LABELS.get(fmt, fmt)} {self.doing}: 요구사항 {total}건 중 {done}건")

    def finished(self, fmt: str) -> None:
        click.echo(f"  {FORMAT_LABELS.get(fmt, fmt)} 완료")


@click.command("issue")
@click.option("--audit", "audit_id", type=int, required=True, help="감사 번호")
@click.option("--as-of", "as_of", type=DATE, required=True, help="기준일 YYYY-MM-DD")
@click.option("--by", "by_login", help="발행자 아이디 (기본: 발행할 수 있는 첫 사용자)")
@click.option("--without-due-changes", is_flag=True,
              help="인쇄용 보고서·PDF에서 기한 변경 내역을 뺍니다.")
@with_appcontext
def issue_command(audit_id: int, as_of: date, by_login: str | None,
                  without_due_changes: bool) -> None:
    """보고서를 발행합니다 (화면의 발행과 같은 작업, 이 자리에서 만듭니다)."""
    with committed():
        audit = db.session.get(Audit, audit_id)
        if audit is None:
            raise NotFound(f"{audit_id}번 감사가 없습니다.", code="audit_not_found")
        started = report_jobs.start_issue(audit, as_of, _issuer(by_login),
                                          include_due_changes=not without_due_changes,
                                          queue=False)
        if started.joined:
            raise DomainError(f"{dates.short(started.job.as_of)} 기준 발행이 이미 진행 중입니다"
                              f"(작업 {started.job.id}). 끝난 뒤 발행 이력을 확인하세요.",
                              code="report_job_active", status=409)
        job_id = started.job.id
        click.echo(f"{audit.title} {dates.short(started.job.as_of)} 기준 발행을 시작합니다"
                   f" (작업 {job_id}, 발행자 {started.job.requested_by.name}).")
    outcome = make_report(job_id, PrintedProgress("만드는 중"))
    job = db.session.get(ReportJob, job_id, populate_existing=True)
    assert job is not None
    if outcome != "done" or job.issued_report is None:
        fail(DomainError(job.error or "다른 작업자가 이 발행을 맡았습니다. 발행 이력을 확인하세요.",
                         code="issue_failed"))
    edition = job.issued_report
    click.echo(f"{edition_label(edition)}을 발행했습니다 (발행 번호 {edition.id}, "
               f"{dates.short(edition.as_of)} 기준, 파일 {len(edition.files)}개).")
    for file in edition.files:
        click.echo(f"  {file.file_name}  {file.size:,} 바이트  SHA-256 {file.sha256}")


def _issuer(login: str | None) -> User:
    if login:
        user = db.session.scalar(select(User).where(User.login == login))
        if user is None:
            raise NotFound(f"'{login}' 사용자가 없습니다.", code="user_not_found")
        if not user.active:
            raise DomainError(f"'{login}' 사용자는 사용이 중지되었습니다.", code="user_inactive")
        return user
    found = db.session.scalars(
        select(User).where(User.active.is_(True),
                           User.role.in_(roles_with(Capability.ISSUE_REPORTS)))
        .order_by(User.id)).first()
    if found is None:
        raise DomainError("발행할 수 있는 사용자가 없습니다. --by로 발행자를 주세요.",
                          code="issuer_missing")
    return found


@click.command("verify")
@click.option("--edition", "edition", type=int, required=True,
              help="발행 번호 (--audit와 함께 주면 그 감사의 판 번호: 제N판)")
@click.option("--audit", "audit_id", type=int, help="감사 번호 (--edition을 판 번호로 읽습니다)")
@with_appcontext
def verify_command(edition: int, audit_id: int | None) -> None:
    """발행본을 이력으로 다시 만들어 발행 기록·보관 파일과 SHA-256을 비교합니다."""
    try:
        found = verification.find_edition(edition, audit_id)
    except DomainError as error:
        fail(error)
    click.echo(f"{found.audit.title} {edition_label(found)}(발행 번호 {found.id}, "
               f"{dates.short(found.as_of)} 기준) 검증")
    result = verification.verify(found, PrintedProgress("다시 만들어 비교하는 중"))
    db.session.rollback()  # nothing was written; end the read
    for check in result.files:
        click.echo(f"  {check.line}")
        if not check.ok:
            click.echo(f"    다시 만든 파일 {check.regenerated or '없음'}")
            click.echo(f"    발행 기록     {check.stored}")
            click.echo(f"    보관 파일     {check.on_disk or '없음'}")
    if not result.ok:
        fail(DomainError(result.summary(found), code="edition_mismatch"),
             [check.line for check in result.differing])
    click.echo(result.summary(found))


@click.command("diff")
@click.option("--from", "first", type=int, required=True, help="앞 판의 발행 번호")
@click.option("--to", "second", type=int, required=True, help="뒤 판의 발행 번호")
@click.option("--audit", "audit_id", type=int, help="감사 번호 (--from, --to를 판 번호로 읽습니다)")
@with_appcontext
def diff_command(first: int, second: int, audit_id: int | None) -> None:
    """두 판 사이에 요구사항별로 바뀐 것을 보여 줍니다."""
    try:
        editions: list[IssuedReport] = [verification.find_edition(number, audit_id)
                                        for number in (first, second)]
        compared = edition_diff.compare(*editions)
    except DomainError as error:
        fail(error)
    for line in compared.lines():
        click.echo(line)


EDITION_COMMANDS = (issue_command, verify_command, diff_command)
