"""일괄 처리: one change, with one reason, to many items — each on its own.

Each item goes through the same operation as its own page (so it gets its own history
row and its teams are told), inside its own savepoint: an item refused (an approval
without evidence or reason, a closed item) or changed by someone else since the list
was shown is reported and left alone, and the others still succeed. The request
commits once. Operations flush; the caller commits.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from auditflow.errors import DomainError
from auditflow.extensions import db
from auditflow.models import OrgUnit, Recommendation, User
from auditflow.services import recommendations as ops
from auditflow.workflow import ConflictError

LIMIT = 500


class BulkAction(enum.StrEnum):
    ASSIGN = "assign"
    DUE_DATE = "due_date"
    APPROVE = "approve"

    @property
    def label(self) -> str:
        return {"assign": "담당 부서 지정", "due_date": "처리 기한 지정",
                "approve": "승인(완료)"}[self.value]


@dataclass
class Outcome:
    done: list[Recommendation] = field(default_factory=list)
    conflicts: list[Recommendation] = field(default_factory=list)  # changed meanwhile
    refused: list[tuple[Recommendation, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    item: Recommendation
    seen_version: int | None  # the version the list showed; None: "all that match"


def run(action: BulkAction, targets: Sequence[Target], actor: User, *,
        lead_team: OrgUnit | None = None, supporting_teams: Sequence[OrgUnit] = (),
        due_date: date | None = None, reason: str | None = None) -> Outcome:
    if not targets:
        raise DomainError("일괄 처리할 요구사항을 하나 이상 고르세요.", code="bulk_empty")
    if len(targets) > LIMIT:
        raise DomainError(f"한 번에 {LIMIT}건까지 일괄 처리할 수 있습니다. 조건을 좁혀 주세요.",
                          code="bulk_too_many")
    outcome = Outcome()
    for target in targets:
        item, seen = target.item, target.seen_version
        savepoint = db.session.begin_nested()
        try:
            if action is BulkAction.ASSIGN:
                ops.assign(item, actor, lead_team=lead_team, supporting_teams=supporting_teams,
                           reason=reason, expected_version=seen)
            elif action is BulkAction.DUE_DATE:
                ops.set_due_date(item, actor, due_date, reason=reason, expected_version=seen)
            else:
                ops.fire(item, "approve", actor, reason=reason, expected_version=seen)
            savepoint.commit()
        except ConflictError:
            savepoint.rollback()
            outcome.conflicts.append(item)
        except DomainError as refused:
            savepoint.rollback()
            outcome.refused.append((item, refused.message))
        else:
            outcome.done.append(item)
    return outcome
