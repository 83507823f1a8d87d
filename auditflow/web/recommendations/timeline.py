"""History rows as the page tells them: who, when, what, why."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from auditflow import dates
from auditflow.extensions import db
from auditflow.korean import with_particle
from auditflow.models import History, OrgUnit
from auditflow.vocabulary import INITIAL, Category, HistoryKind, State
from auditflow.workflow import BY_TRIGGER, EXTENSIONS, TRANSFERS

EXTENSION_BY_TRIGGER = EXTENSIONS.by_trigger

FIELD_LABELS = {
    "action_details": "추진내용",
    "future_plan": "향후계획",
    "council_text": "요구사항 내용",
    "category": "구분",
    "due_date": "처리 기한",
}


@dataclass
class Entry:
    at: datetime
    actor: Any
    kind: str
    kind_label: str
    summary: str
    reason: str | None
    from_state: str | None = None
    to_state: str | None = None
    detail: str | None = None  # a longer text (new 추진내용 etc.), shown folded


def _date(value: str | None) -> str:
    return dates.short(date.fromisoformat(value)) if value else "미지정"


def _teams(value: str | None, names: dict[int, str]) -> str:
    data = json.loads(value) if value else {}
    lead = data.get("lead_team_id")
    supporting = data.get("supporting_team_ids") or []
    text = f"주관 {names.get(lead, '미지정') if lead else '미지정'}"
    if supporting:
        text += f", 협조 {', '.join(names.get(i, str(i)) for i in supporting)}"
    return text


def _team_names(rows: list[History]) -> dict[int, str]:
    ids: set[int] = set()
    for row in rows:
        if row.kind == HistoryKind.ASSIGNMENT:
            for value in (row.old_value, row.new_value):
                data = json.loads(value) if value else {}
                if data.get("lead_team_id"):
                    ids.add(data["lead_team_id"])
                ids.update(data.get("supporting_team_ids") or [])
    if not ids:
        return {}
    return dict(db.session.execute(db.select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids))).all())


def describe(rows: list[History]) -> list[Entry]:
    names = _team_names(rows)
    entries = []
    for row in rows:
        kind = HistoryKind(row.kind)
        summary, detail = "", None
        if kind == HistoryKind.CREATED:
            summary = f"요구사항을 등록했습니다 ({State(row.to_state or INITIAL).label})."
        elif kind == HistoryKind.TRANSITION:
            spec = BY_TRIGGER.get(row.trigger or "")
            action = spec.label if spec else (row.trigger or "")
            summary = action  # the page shows the two states as badges beside it
        elif kind == HistoryKind.ASSIGNMENT:
            summary = f"{_teams(row.old_value, names)} → {_teams(row.new_value, names)}"
        elif kind == HistoryKind.DUE_DATE:
            summary = f"{_date(row.old_value)} → {_date(row.new_value)}"
        elif kind == HistoryKind.RESULT:
            summary = f"{with_particle(FIELD_LABELS.get(row.field or '', row.field or ''), '을/를')} 수정했습니다."
            detail = row.new_value
        elif kind == HistoryKind.TEXT:
            if row.field == "category":
                old = Category(row.old_value).label if row.old_value else ""
                new = Category(row.new_value).label if row.new_value else ""
                summary = f"구분: {old} → {new}"
            else:
                summary = f"{with_particle(FIELD_LABELS.get(row.field or '', row.field or ''), '을/를')} 수정했습니다."
                detail = row.new_value
        elif kind == HistoryKind.EVIDENCE:
            summary = row.new_value or row.old_value or ""
        elif kind == HistoryKind.EXTENSION:
            spec = EXTENSION_BY_TRIGGER.get(row.trigger or "")
            action = spec.label if spec else "연장 요청"
            summary = f"{action}: {_date(row.old_value)} → {_date(row.new_value)}"
        elif kind == HistoryKind.TRANSFER:
            spec = TRANSFERS.by_trigger.get(row.trigger or "")
            action = spec.label if spec else "이관 요청"
            summary = f"{action}: {row.old_value or ''} → {row.new_value or ''}"
        entries.append(
            Entry(at=row.at, actor=row.actor, kind=kind.value, kind_label=kind.label,
                  summary=summary, reason=row.comment, from_state=row.from_state,
                  to_state=row.to_state, detail=detail)
        )
    return entries
