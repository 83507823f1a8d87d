"""The recommendation workflow: the only place a state change is declared.

Every transition names its trigger, the states it leaves from and goes to, the
guards that decide who may fire it and when (capability, team, required fields
and input, confirmation), and the words the screen uses. The ``transitions``
machine, the buttons, the API's ``allowed_actions`` and the tests all read
this table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from auditflow.permissions import Capability
from auditflow.vocabulary import RequestState, State
from auditflow.workflow import guards as g
from auditflow.workflow.guards import Guard


@dataclass(frozen=True)
class TransitionSpec:
    trigger: str
    sources: tuple[enum.StrEnum, ...]
    dest: enum.StrEnum
    label: str  # the button
    guards: tuple[Guard, ...]
    reason_label: str | None = None  # the reason box, where a guard can ask for one
    style: str = "primary"
    # The box only where a guard needs the reason now (approve: only without evidence).
    reason_only_when_required: bool = False
    hint: str | None = None  # what happens next, next to the button

    @property
    def capability(self) -> Capability:
        """The capability whoever fires this trigger must have (other guards may still refuse)."""
        return next(guard.capability for guard in self.guards if guard.capability is not None)

    @property
    def team_only(self) -> bool:
        """Only a user of one of the item's teams may fire it."""
        return g.assigned_team in self.guards

    @property
    def confirm(self) -> bool:
        """Asked twice: the form and the API want an explicit "확인했습니다"."""
        return any(guard.input == "confirm" for guard in self.guards)


TEAM_WORK = g.may(Capability.WORK_ON_ASSIGNED_ITEMS)
REVIEW = g.may(Capability.REVIEW_ITEMS)

TRANSITIONS: tuple[TransitionSpec, ...] = (
    TransitionSpec(
        trigger="start",
        sources=(State.RECEIVED,),
        dest=State.IN_PROGRESS,
        label="추진 시작",
        guards=(TEAM_WORK, g.assigned_team),
        hint="추진을 시작하면 추진내용과 향후계획을 작성하고 증빙자료를 올릴 수 있습니다.",
    ),
    TransitionSpec(
        trigger="submit",
        sources=(State.IN_PROGRESS,),
        dest=State.REVIEWING,
        label="검토 요청(제출)",
        guards=(TEAM_WORK, g.assigned_team, g.lead_team, g.has_action_details),
        hint="저장한 추진내용·향후계획과 증빙자료를 감사팀이 검토해 승인하거나 보완을 요청합니다. "
             "검토하는 동안에는 내용을 고치거나 증빙자료를 바꿀 수 없습니다.",
    ),
    TransitionSpec(
        trigger="approve",
        sources=(State.REVIEWING,),
        dest=State.COMPLETED,
        label="승인(완료)",
        guards=(REVIEW, g.has_action_details, g.evidence_or_reason),
        reason_label="증빙자료 없이 승인하는 사유",
        reason_only_when_required=True,
        hint="승인하면 완료로 처리되어 처리결과 보고서의 조치완료에 들어갑니다.",
    ),
    TransitionSpec(
        trigger="return_for_rework",
        sources=(State.REVIEWING,),
        dest=State.IN_PROGRESS,
        label="보완 요청",
        guards=(REVIEW, g.reason_given),
        reason_label="보완 요청 사유",
        style="secondary",
        hint="담당 부서에 사유와 함께 알리고, 부서가 보완해 다시 검토 요청합니다.",
    ),
    # Closing an item as not reflected, or reopening a closed one, is asked twice.
    TransitionSpec(
        trigger="decline",
        sources=(State.REVIEWING,),
        dest=State.NOT_REFLECTED,
        label="미반영 처리",
        guards=(REVIEW, g.has_action_details, g.reason_given, g.confirmed("미반영 처리")),
        reason_label="미반영 사유",
        style="danger",
    ),
    TransitionSpec(
        trigger="reopen",
        sources=(State.COMPLETED, State.NOT_REFLECTED),
        dest=State.IN_PROGRESS,
        label="재추진",
        guards=(REVIEW, g.reason_given, g.confirmed("재추진")),
        reason_label="재추진 사유",
        style="secondary",
    ),
)

BY_TRIGGER: dict[str, TransitionSpec] = {spec.trigger: spec for spec in TRANSITIONS}

# A team's request to move the due date (기한 연장): the audit team decides, the team may
# withdraw it while it waits. Asking is not a transition: the request starts pending
# (``services.extensions.request``).
EXTENSION_TRANSITIONS: tuple[TransitionSpec, ...] = (
    TransitionSpec(
        trigger="approve_extension",
        sources=(RequestState.PENDING,),
        dest=RequestState.APPROVED,
        label="연장 승인",
        guards=(REVIEW, g.item_open),
        reason_label="승인 의견(선택)",
    ),
    TransitionSpec(
        trigger="decline_extension",
        sources=(RequestState.PENDING,),
        dest=RequestState.DECLINED,
        label="연장 반려",
        guards=(REVIEW, g.reason_given),
        reason_label="반려 사유",
        style="secondary",
    ),
    TransitionSpec(
        trigger="withdraw_extension",
        sources=(RequestState.PENDING,),
        dest=RequestState.WITHDRAWN,
        label="요청 취소",
        guards=(TEAM_WORK, g.assigned_team),
        style="tertiary",
    ),
)

# The lead team's request to hand the item to another team (이관): the audit team decides,
# the lead team may withdraw it while it waits. An approval makes the requested team the
# lead (``services.transfers.decide``); asking is not a transition either.
TRANSFER_TRANSITIONS: tuple[TransitionSpec, ...] = (
    TransitionSpec(
        trigger="approve_transfer",
        sources=(RequestState.PENDING,),
        dest=RequestState.APPROVED,
        label="이관 승인",
        guards=(REVIEW, g.team_at_work, g.lead_unchanged),
        reason_label="승인 의견(선택)",
        hint="승인하면 요청한 부서가 주관 부서가 되고, 두 부서에 알립니다.",
    ),
    TransitionSpec(
        trigger="decline_transfer",
        sources=(RequestState.PENDING,),
        dest=RequestState.DECLINED,
        label="이관 반려",
        guards=(REVIEW, g.reason_given),
        reason_label="반려 사유",
        style="secondary",
    ),
    TransitionSpec(
        trigger="withdraw_transfer",
        sources=(RequestState.PENDING,),
        dest=RequestState.WITHDRAWN,
        label="이관 요청 취소",
        guards=(TEAM_WORK, g.lead_only("이관 요청은 주관 부서만 취소할 수 있습니다.")),
        style="tertiary",
    ),
)


def _capabilities(transitions: tuple[TransitionSpec, ...]) -> tuple[Capability, ...]:
    return tuple(dict.fromkeys(spec.capability for spec in transitions))


# Whoever may fire any trigger at all: the routes that fire triggers admit these.
TRIGGER_CAPABILITIES: tuple[Capability, ...] = _capabilities(TRANSITIONS)
EXTENSIONS_CAPABILITIES: tuple[Capability, ...] = _capabilities(EXTENSION_TRANSITIONS)
TRANSFERS_CAPABILITIES: tuple[Capability, ...] = _capabilities(TRANSFER_TRANSITIONS)
