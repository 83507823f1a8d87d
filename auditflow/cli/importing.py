"""``flask --app auditflow import FILE``: the council's list into an audit, checked first.

FILE is the XLSX template (or a 처리결과 report laid out as this product's XLSX), or a
HWPX document: this product's HWPX report, or the council's list in its two-column
tables. ``--team`` names the lead team of every item the file names none for (a HWPX
report names no teams). Every row is checked before anything is written; the preview lists each item and each
problem by row and cell. With problems, nothing is written and the command exits 1
(``import_invalid``); ``--dry-run`` only shows the preview. Importing the same file again
adds nothing.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from auditflow.cli.common import committed, fail
from auditflow.errors import DomainError, NotFound
from auditflow.extensions import db
from auditflow.models import Audit, User
from auditflow.permissions import Capability, roles_with
from auditflow.reports.summary import latest_audit
from auditflow.services import audits, importing


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--audit", "audit_id", type=int, help="요구사항을 더할 감사 번호")
@click.option("--year", type=int, help="새 감사의 연도 (--title과 함께: 감사를 새로 만듭니다)")
@click.option("--title", help="새 감사의 이름 (예: 2026 행정사무감사)")
@click.option("--team", "team_name",
              help="파일에 주관 부서가 없는 요구사항의 주관 부서 (팀 또는 TF의 이름이나 코드)")
@click.option("--by", "by_login", help="기록할 감사팀 사용자 아이디 (기본: 첫 감사팀 사용자)")
@click.option("--dry-run", is_flag=True, help="확인만 하고 저장하지 않습니다.")
@with_appcontext
def import_command(file: Path, audit_id: int | None, year: int | None, title: str | None,
                   team_name: str | None, by_login: str | None, dry_run: bool) -> None:
    """엑셀(XLSX) 서식의 요구사항 목록이나 처리결과 보고서(XLSX·HWPX)를 감사로 가져옵니다."""
    creating = year is not None or title is not None
    if (audit_id is not None) == creating or (creating and (year is None or not title)):
        fail(DomainError("--audit 번호, 또는 새 감사의 --year와 --title 둘 다를 주세요.",
                         code="import_target"))
    with committed():
        actor = _actor(by_login)
        audit = db.session.get(Audit, audit_id) if audit_id is not None else None
        if audit_id is not None and audit is None:
            raise NotFound(f"{audit_id}번 감사가 없습니다.", code="audit_not_found")
        team = importing.find_team(team_name) if team_name else None
        plan = importing.plan(audit, file.read_bytes(), file.name, lead_team=team)
        _preview(plan)
        if plan.problems:
            raise importing.ImportRefused(plan)
        if dry_run:
            click.echo("확인만 했습니다(--dry-run). 저장한 것은 없습니다.")
            db.session.rollback()
            return
        if audit is None:
            assert year is not None and title is not None
            like = latest_audit()
            audit = audits.create(actor, year=year, title=title,
                                  body=like.body if like else "",
                                  organisation=like.organisation if like else "",
                                  reference_date=plan.reported_on)
            click.echo(f"새 감사를 만들었습니다: {audit.title} (번호 {audit.id})")
        written = importing.apply(plan, audit, actor)
        click.echo(f"'{audit.title}'에 요구사항 {len(written)}건을 더했습니다"
                   f" (이미 있어 그대로 둔 것 {plan.unchanged}건). 기록자: {actor.name}({actor.login})")


def _actor(login: str | None) -> User:
    query = select(User).where(User.active.is_(True),
                               User.role.in_(roles_with(Capability.MANAGE_ITEMS)))
    if login:
        query = query.where(User.login == login)
    user = db.session.scalars(query.order_by(User.id)).first()
    if user is None:
        raise DomainError(f"'{login}'은(는) 요구사항을 등록할 수 있는 사용자가 아닙니다." if login
                          else "요구사항을 등록할 수 있는 감사팀 사용자가 없습니다. 먼저 만드세요.",
                          code="import_actor")
    return user


def _preview(plan: importing.ImportPlan) -> None:
    click.echo(f"{plan.file_name} (SHA-256 {plan.sha256[:16]}…): 요구사항 {len(plan.items)}건, "
               f"새로 더할 것 {len(plan.new_items)}건, 이미 있는 것 {plan.unchanged}건, "
               f"문제 {len(plan.problems)}건")
    if plan.lead_team is not None:
        click.echo(f"  파일에 주관 부서가 없는 요구사항은 '{plan.lead_team.name}'에서 맡습니다.")
    for item in plan.items:
        teams = item.lead_team.name if item.lead_team else "주관 부서 미지정"
        if item.supporting_teams:
            teams += " (협조: " + ", ".join(t.name for t in item.supporting_teams) + ")"
        mark = "새로" if item.is_new else "있음"
        click.echo(f"  [{mark}] {item.number}번 {item.category.label} · {item.state.label} · {teams} · "
                   f"기한 {item.due_date.isoformat() if item.due_date else '미지정'} · "
                   f"{item.council_text[:40]}")
