"""Operations on recommendations: register, assign, edit, fire the workflow.

Each records its history row in the same transaction and flushes; the request
(or CLI command) commits once, or rolls everything back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.orm.exc import StaleDataError

from auditflow import workflow
from auditflow.errors import DomainError, Forbidden
from auditflow.extensions import db
from auditflow.korean import particle
from auditflow.models import Audit, History, OrgUnit, Recommendation, User, utcnow
from auditflow.permissions import Capability, role_names
from auditflow.services import notifications
from auditflow.services.limits import (
    ACTION_DETAILS_MAX,
    COUNCIL_TEXT_MAX,
    FUTURE_PLAN_MAX,
    REASON_MAX,
    bounded,
)
from auditflow.vocabulary import INITIAL, RESULT_REQUIRED, Category, Field, HistoryKind, State
from auditflow.workflow import ConflictError


def flush() -> None:
    """Write pending changes; a stale version becomes the workflow's conflict."""
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise ConflictError() from exc


def expect_version(recommendation: Recommendation, expected_version: int | None) -> None:
    """Refuse a change made on a screen older than the item (``ConflictError``)."""
    if expected_version is not None and recommendation.version != expected_version:
        raise ConflictError()


def _record(recommendation: Recommendation, kind: HistoryKind, actor: User | None, *,
            field: Field | None = None, old: str | None = None, new: str | None = None,
            comment: str | None = None, at: datetime | None = None,
            to_state: str | None = None) -> History:
    row = History(
        recommendation=recommendation,
        at=at or utcnow(),
        actor=actor,
        kind=kind.value,
        field=field.value if field else None,
        old_value=old,
        new_value=new,
        to_state=to_state,
        comment=(comment or "").strip() or None,
    )
    db.session.add(row)
    return row


def _teams_value(lead: OrgUnit | None, supporting: Sequence[OrgUnit]) -> str:
    return json.dumps(
        {
            "lead_team_id": lead.id if lead else None,
            "supporting_team_ids": sorted(team.id for team in supporting),
        }
    )


def _check_assignable(lead: OrgUnit | None, supporting: Sequence[OrgUnit]) -> None:
    for team in [lead, *supporting]:
        if team is not None and not team.is_assignable:
            raise DomainError(
                f"'{team.name}'{particle(team.name, '은/는')} 본부입니다. 팀 또는 TF를 지정하세요.", code="team_not_assignable"
            )
    if lead is not None and lead in supporting:
        raise DomainError("주관 부서를 협조 부서로 함께 지정할 수 없습니다.", code="team_duplicate")


def register(audit: Audit, *, number: int, category: Category, council_text: str,
             actor: User, lead_team: OrgUnit | None = None,
             supporting_teams: Sequence[OrgUnit] = (), due_date: date | None = None,
             at: datetime | None = None, source: str | None = None) -> Recommendation:
    """A new item in 접수; ``source`` (where it came from, e.g. an imported file) goes into
    the history of its registration."""
    if not actor.can(Capability.MANAGE_ITEMS):
        raise Forbidden(f"요구사항 등록은 {role_names(Capability.MANAGE_ITEMS)}만 할 수 있습니다.")
    text = (council_text or "").strip()
    if not text:
        raise DomainError("요구사항 내용을 입력하세요.", code="council_text_required")
    bounded(text, COUNCIL_TEXT_MAX, label="요구사항 내용", field="council_text")
    if number < 1:
        raise DomainError("번호는 1 이상이어야 합니다.", code="number_invalid")
    exists = db.session.scalar(
        db.select(Recommendation.id).filter_by(audit_id=audit.id, number=number)
    )
    if exists:
        raise DomainError(f"{number}번 요구사항이 이미 있습니다.", code="number_taken")
    _check_assignable(lead_team, supporting_teams)
    when = at or utcnow()
    recommendation = Recommendation(
        audit=audit,
        number=number,
        category=Category(category).value,
        council_text=text,
        lead_team=lead_team,
        supporting_teams=list(supporting_teams),
        due_date=due_date,
        created_at=when,
        updated_at=when,
    )
    db.session.add(recommendation)
    _record(recommendation, HistoryKind.CREATED, actor, at=when, to_state=INITIAL.value,
            new=text, comment=source)
    # The category it was registered with, so that "as of" rebuilds it after later edits.
    _record(recommendation, HistoryKind.TEXT, actor, field=Field.CATEGORY, old=None,
            new=recommendation.category, at=when)
    if lead_team is not None or supporting_teams:
        _record(recommendation, HistoryKind.ASSIGNMENT, actor, field=Field.TEAMS,
                old=_teams_value(None, ()), new=_teams_value(lead_team, supporting_teams), at=when)
    if due_date is not None:
        _record(recommendation, HistoryKind.DUE_DATE, actor, field=Field.DUE_DATE, old=None,
                new=due_date.isoformat(), at=when)
    flush()
    notifications.assigned(recommendation, actor)
    return recommendation


def fire(recommendation: Recommendation, trigger: str, actor: User | None, *,
         reason: str | None = None, confirmed: bool = False,
         expected_version: int | None = None, at: datetime | None = None) -> None:
    """Fire a workflow trigger: refused with nothing changed, or done with its history row."""
    _reason(reason)
    expect_version(recommendation, expected_version)
    workflow.fire(recommendation, trigger, actor, reason=reason, confirmed=confirmed, at=at)
    flush()
    notifications.transitioned(recommendation, trigger, actor, reason)


def assign(recommendation: Recommendation, actor: User, *, lead_team: OrgUnit | None,
           supporting_teams: Sequence[OrgUnit] = (), reason: str | None = None,
           expected_version: int | None = None, at: datetime | None = None) -> None:
    if not recommendation.can_manage(actor):
        raise Forbidden(f"담당 부서 지정은 {role_names(Capability.MANAGE_ITEMS)}만 할 수 있습니다.")
    expect_version(recommendation, expected_version)
    _reason(reason)
    _check_assignable(lead_team, supporting_teams)
    if lead_team is None and recommendation.state_enum != INITIAL:
        raise DomainError("추진을 시작한 요구사항은 주관 부서를 비울 수 없습니다. 다른 부서로 바꾸어 지정하세요.",
                          code="lead_team_required")
    old = _teams_value(recommendation.lead_team, recommendation.supporting_teams)
    new = _teams_value(lead_team, supporting_teams)
    if old == new:
        return
    before, before_lead = recommendation.team_ids, recommendation.lead_team_id
    recommendation.lead_team = lead_team
    recommendation.supporting_teams = list(supporting_teams)
    _record(recommendation, HistoryKind.ASSIGNMENT, actor, field=Field.TEAMS, old=old, new=new,
            comment=reason, at=at)
    flush()
    notifications.assigned(recommendation, actor, before, before_lead)


def set_due_date(recommendation: Recommendation, actor: User, due_date: date | None, *,
                 reason: str | None = None, expected_version: int | None = None,
                 at: datetime | None = None) -> None:
    if not recommendation.can_manage(actor):
        raise Forbidden(f"기한 지정은 {role_names(Capability.MANAGE_ITEMS)}만 할 수 있습니다.")
    expect_version(recommendation, expected_version)
    _reason(reason)
    if recommendation.due_date == due_date:
        return
    if recommendation.due_date is not None and not (reason or "").strip():
        raise DomainError("기한을 바꾸는 사유를 입력하세요.", code="reason_required")
    change_due_date(recommendation, actor, due_date, reason=reason, at=at)


def change_due_date(recommendation: Recommendation, actor: User, due_date: date | None, *,
                    reason: str | None, at: datetime | None = None) -> None:
    """The item's due date and its history row; the callers decide who may. Flushes."""
    old = recommendation.due_date.isoformat() if recommendation.due_date else None
    recommendation.due_date = due_date
    _record(recommendation, HistoryKind.DUE_DATE, actor, field=Field.DUE_DATE, old=old,
            new=due_date.isoformat() if due_date else None, comment=reason, at=at)
    flush()


def edit_text(recommendation: Recommendation, actor: User, *, council_text: str,
              category: Category, reason: str | None = None,
              expected_version: int | None = None, at: datetime | None = None) -> None:
    if not recommendation.can_manage(actor):
        raise Forbidden(f"요구사항 수정은 {role_names(Capability.MANAGE_ITEMS)}만 할 수 있습니다.")
    expect_version(recommendation, expected_version)
    _reason(reason)
    text = (council_text or "").strip()
    if not text:
        raise DomainError("요구사항 내용을 입력하세요.", code="council_text_required")
    bounded(text, COUNCIL_TEXT_MAX, label="요구사항 내용", field="council_text")
    for field, value in ((Field.COUNCIL_TEXT, text), (Field.CATEGORY, Category(category).value)):
        old = getattr(recommendation, field.value)
        if old != value:
            setattr(recommendation, field.value, value)
            _record(recommendation, HistoryKind.TEXT, actor, field=field, old=old, new=value,
                    comment=reason, at=at)
    flush()


def edit_result(recommendation: Recommendation, actor: User, *, action_details: str,
                future_plan: str | None, expected_version: int | None = None,
                at: datetime | None = None) -> None:
    """Write 추진내용 and 향후계획; each changed field leaves its old value in history."""
    if not recommendation.can_edit_result(actor):
        state = State(recommendation.state)
        raise Forbidden(f"'{state.label}' 상태에서는 조치결과를 수정할 수 없습니다.",
                        code="result_locked")
    expect_version(recommendation, expected_version)
    details = _clean_outline(action_details)
    plan = _clean_outline(future_plan) or None
    bounded(details, ACTION_DETAILS_MAX, label="추진내용", field="action_details")
    bounded(plan, FUTURE_PLAN_MAX, label="향후계획", field="future_plan")
    if not details.strip() and recommendation.state_enum in RESULT_REQUIRED:
        # Handed over for review with its result: it may be corrected, not emptied.
        raise DomainError("검토 중인 요구사항의 추진내용은 비울 수 없습니다.",
                          code="action_details_required")
    for field, value in ((Field.ACTION_DETAILS, details), (Field.FUTURE_PLAN, plan)):
        old = getattr(recommendation, field.value)
        if (old or None) != (value or None):
            setattr(recommendation, field.value,
                    value if field is Field.FUTURE_PLAN else value or "")
            _record(recommendation, HistoryKind.RESULT, actor, field=field, old=old, new=value,
                    at=at)
    flush()


def _reason(reason: str | None) -> None:
    bounded((reason or "").strip(), REASON_MAX, label="사유", field="reason")


def _clean_outline(text: str | None) -> str:
    """Keep indentation (it is the outline's nesting); drop trailing blanks and CRs."""
    if not text:
        return ""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)
