"""The recommendation workflow: the only place a state change is declared.

Every transition names its trigger, the states it leaves from and goes to, the
guards that decide who may fire it and when, and the words the screen uses.
The machine, the buttons, the API's ``allowed_actions`` and the tests all read
this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditflow.models.user import Role
from auditflow.workflow import guards as g
from auditflow.workflow.guards import Guard
from auditflow.workflow.states import State


@dataclass(frozen=True)
class TransitionSpec:
    trigger: str
    sources: tuple[State, ...]
    dest: State
    label: str  # the button
    guards: tuple[Guard, ...]
    reason_label: str | None = None  # the reason box, where a guard can ask for one
    style: str = "primary"
    # Closing an item as not reflected, or reopening a closed one, is asked twice:
    # the form wants an explicit "확인했습니다".
    confirm: bool = False

    @property
    def roles(self) -> frozenset[str]:
        """The roles that may ever fire this trigger (other guards may still refuse)."""
        return frozenset().union(*(guard.roles for guard in self.guards))


DEPARTMENT = g.role_is(Role.DEPARTMENT)
AUDIT_TEAM = g.role_is(Role.AUDIT)

TRANSITIONS: tuple[TransitionSpec, ...] = (
    TransitionSpec(
        trigger="start",
        sources=(State.RECEIVED,),
        dest=State.IN_PROGRESS,
        label="추진 시작",
        guards=(DEPARTMENT, g.assigned_team),
    ),
    TransitionSpec(
        trigger="submit",
        sources=(State.IN_PROGRESS,),
        dest=State.REVIEWING,
        label="검토 요청(제출)",
        guards=(DEPARTMENT, g.assigned_team, g.has_action_details),
    ),
    TransitionSpec(
        trigger="approve",
        sources=(State.REVIEWING,),
        dest=State.COMPLETED,
        label="승인(완료)",
        guards=(AUDIT_TEAM, g.evidence_or_reason),
        reason_label="증빙자료 없이 승인하는 사유",
        style="primary",
    ),
    TransitionSpec(
        trigger="return_for_rework",
        sources=(State.REVIEWING,),
        dest=State.IN_PROGRESS,
        label="보완 요청",
        guards=(AUDIT_TEAM, g.reason_given),
        reason_label="보완 요청 사유",
        style="secondary",
    ),
    TransitionSpec(
        trigger="decline",
        sources=(State.REVIEWING,),
        dest=State.NOT_REFLECTED,
        label="미반영 처리",
        guards=(AUDIT_TEAM, g.reason_given),
        reason_label="미반영 사유",
        style="danger",
        confirm=True,
    ),
    TransitionSpec(
        trigger="reopen",
        sources=(State.COMPLETED, State.NOT_REFLECTED),
        dest=State.IN_PROGRESS,
        label="재추진",
        guards=(AUDIT_TEAM, g.reason_given),
        reason_label="재추진 사유",
        style="secondary",
        confirm=True,
    ),
)

BY_TRIGGER: dict[str, TransitionSpec] = {spec.trigger: spec for spec in TRANSITIONS}
