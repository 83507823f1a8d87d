"""Conditions a transition must meet, each with the code and message of its refusal.

A guard is called by ``transitions`` with the ``EventData`` of the trigger
(``send_event=True``): ``event.model`` is the recommendation and
``event.kwargs`` holds ``actor`` and, where the user typed one, ``reason``.
Guards that only ask for user input (``input="reason"``) pass while probing
which actions a user may take, so that the form can then ask for the input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from auditflow.models.user import Role


@dataclass(frozen=True)
class Guard:
    code: str
    message: str
    test: Callable[[Any], bool]
    input: str | None = None
    roles: frozenset[str] = frozenset()  # for role guards: the roles admitted

    def __call__(self, event: Any) -> bool:
        if self.input is not None and event.kwargs.get("probe"):
            return True
        return bool(self.test(event))


def _actor(event: Any) -> Any:
    return event.kwargs.get("actor")


def _reason(event: Any) -> str:
    return (event.kwargs.get("reason") or "").strip()


def role_is(*roles: Role) -> Guard:
    names = "·".join(role.label for role in roles)

    def test(event: Any) -> bool:
        actor = _actor(event)
        return actor is not None and actor.active and actor.role in roles

    return Guard(
        code="role_not_allowed",
        message=f"이 작업은 {names} 사용자만 할 수 있습니다.",
        test=test,
        roles=frozenset(role.value for role in roles),
    )


def _assigned(event: Any) -> bool:
    actor = _actor(event)
    return actor is not None and actor.team_id is not None and (
        actor.team_id in event.model.team_ids
    )


assigned_team = Guard(
    code="team_not_assigned",
    message="이 요구사항의 주관·협조 부서로 지정된 팀만 할 수 있습니다.",
    test=_assigned,
)

has_action_details = Guard(
    code="action_details_required",
    message="추진내용을 먼저 작성하세요.",
    test=lambda event: bool((event.model.action_details or "").strip()),
)

reason_given = Guard(
    code="reason_required",
    message="사유를 입력하세요.",
    test=lambda event: bool(_reason(event)),
    input="reason",
)

evidence_or_reason = Guard(
    code="evidence_required",
    message="증빙자료가 없습니다. 증빙자료 없이 승인하려면 그 사유를 입력하세요.",
    test=lambda event: bool(event.model.current_evidence) or bool(_reason(event)),
    input="reason",
)
