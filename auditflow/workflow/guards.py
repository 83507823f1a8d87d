"""Conditions a transition must meet, each with the code, message and HTTP status of its refusal.

A guard is a predicate on an :class:`Attempt`: who wants to fire the trigger on
which item, with what input. Guards that only ask for input the user types
(``input="reason"`` or ``"confirm"``) pass while the workflow is probing which
buttons to show, so that the form can then ask for that input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditflow.korean import particle
from auditflow.permissions import Actor, Capability, role_names
from auditflow.vocabulary import State

# The states in which an item is its team's to work on (and so to hand on).
TEAM_STATES = frozenset({State.RECEIVED, State.IN_PROGRESS})

if TYPE_CHECKING:
    from auditflow.models.recommendation import Recommendation


@dataclass(frozen=True)
class Attempt:
    """One question to a workflow: may ``actor`` fire a trigger on ``subject`` now?

    ``recommendation`` is the item concerned: the subject itself for the item workflow,
    the item of the request for the extension workflow (whose team guards ask it).
    """

    recommendation: Recommendation
    actor: Actor | None
    reason: str = ""  # stripped
    confirmed: bool = False
    probe: bool = False  # asking which actions to offer, before the user typed anything
    subject: Any = None


@dataclass(frozen=True)
class Guard:
    code: str
    message: str
    test: Callable[[Attempt], bool]
    status: int = 409
    input: str | None = None  # the form field this guard asks for, if it asks for one
    capability: Capability | None = None  # for capability guards: the capability asked for

    def refuses(self, attempt: Attempt) -> bool:
        if self.input is not None and attempt.probe:
            return False
        return not self.test(attempt)


def may(capability: Capability) -> Guard:
    """The actor has ``capability`` (and is an active user)."""
    return Guard(
        code="role_not_allowed",
        message=f"이 작업은 {role_names(capability)} 사용자만 할 수 있습니다.",
        test=lambda attempt: attempt.actor is not None and attempt.actor.can(capability),
        status=403,
        capability=capability,
    )


assigned_team = Guard(
    code="team_not_assigned",
    message="이 요구사항의 주관·협조 부서로 지정된 팀만 할 수 있습니다.",
    test=lambda attempt: attempt.actor is not None
    and attempt.recommendation.is_assigned(attempt.actor),
    status=403,
)

def lead_only(message: str) -> Guard:
    """The actor is a user of the item's lead team (주관 부서)."""
    return Guard(
        code="lead_team_only",
        message=message,
        test=lambda attempt: attempt.actor is not None
        and attempt.recommendation.is_lead(attempt.actor),
        status=403,
    )


lead_team = lead_only(
    "검토 요청(제출)은 주관 부서만 할 수 있습니다. 협조 부서는 증빙자료와 의견으로 함께합니다.")

has_action_details = Guard(
    code="action_details_required",
    message="추진내용을 먼저 작성하세요.",
    test=lambda attempt: attempt.recommendation.has_action_details,
)

reason_given = Guard(
    code="reason_required",
    message="사유를 입력하세요.",
    test=lambda attempt: bool(attempt.reason),
    status=400,
    input="reason",
)

evidence_or_reason = Guard(
    code="evidence_required",
    message="증빙자료가 없습니다. 증빙자료 없이 승인하려면 그 사유를 입력하세요.",
    test=lambda attempt: bool(attempt.recommendation.current_evidence) or bool(attempt.reason),
    status=400,
    input="reason",
)


def confirmed(label: str) -> Guard:
    """The user ticked "확인했습니다": asked where an action is hard to undo."""
    return Guard(
        code="confirmation_required",
        message=f"'{label}'{particle(label, '을/를')} 하려면 '확인했습니다'에 표시하세요.",
        test=lambda attempt: attempt.confirmed,
        status=400,
        input="confirm",
    )


item_open = Guard(
    code="item_closed",
    message="완료되거나 미반영 처리된 요구사항의 기한은 바꿀 수 없습니다.",
    test=lambda attempt: not attempt.recommendation.state_enum.is_closed,
)


# ─── 이관 ─────────────────────────────────────────────────────────────────────────

team_at_work = Guard(
    code="item_not_with_team",
    message="검토 중이거나 끝난 요구사항은 이관할 수 없습니다.",
    test=lambda attempt: attempt.recommendation.state_enum in TEAM_STATES,
)

lead_unchanged = Guard(
    code="lead_team_changed",
    message="요청한 뒤 주관 부서가 이미 바뀌었습니다. 이 요청은 반려하거나 요청한 부서가 취소하세요.",
    test=lambda attempt: attempt.subject is None
    or attempt.recommendation.lead_team_id == attempt.subject.from_team_id,
)
