"""The one ``transitions`` machine of the process, and the questions callers ask it.

Recommendations loaded from the database are attached to the machine only
while a trigger is asked about or fired (``bound``), with their stored state,
and detached afterwards so the machine holds no reference to them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import object_session
from transitions import Machine

from auditflow.models.base import utcnow
from auditflow.models.history import History, HistoryKind
from auditflow.workflow.definition import BY_TRIGGER, TRANSITIONS, TransitionSpec
from auditflow.workflow.errors import WorkflowError
from auditflow.workflow.states import INITIAL, State

if TYPE_CHECKING:
    from auditflow.models.recommendation import Recommendation
    from auditflow.models.user import User


def _record_transition(event: Any) -> None:
    """After every state change: the history row, in the same session and transaction."""
    recommendation = event.model
    session = object_session(recommendation)
    if session is None:
        raise RuntimeError("a recommendation must belong to a session to change state")
    actor = event.kwargs.get("actor")
    session.add(
        History(
            recommendation=recommendation,
            at=event.kwargs.get("at") or utcnow(),
            actor=actor,
            kind=HistoryKind.TRANSITION.value,
            trigger=event.event.name,
            from_state=event.transition.source,
            to_state=event.transition.dest,
            comment=(event.kwargs.get("reason") or "").strip() or None,
        )
    )


def _build() -> Machine:
    return Machine(
        model=None,
        states=[state.value for state in State],
        initial=INITIAL.value,
        transitions=[
            {
                "trigger": spec.trigger,
                "source": [source.value for source in spec.sources],
                "dest": spec.dest.value,
                "conditions": list(spec.guards),
            }
            for spec in TRANSITIONS
        ],
        model_attribute="state",
        auto_transitions=False,
        send_event=True,
        after_state_change=[_record_transition],
    )


MACHINE = _build()

_BOUND_NAMES = (
    ["trigger", "may_trigger"]
    + [name for spec in TRANSITIONS for name in (spec.trigger, f"may_{spec.trigger}")]
    + [f"is_{state.value}" for state in State]
)


@contextmanager
def bound(recommendation: Recommendation) -> Iterator[Any]:
    """Attach a recommendation to the machine with its stored state, for one use."""
    MACHINE.add_model(recommendation, initial=recommendation.state)
    try:
        yield recommendation
    finally:
        MACHINE.remove_model(recommendation)
        for name in _BOUND_NAMES:
            recommendation.__dict__.pop(name, None)


@dataclass(frozen=True)
class Action:
    """A trigger the user may fire now, as a button or an API entry."""

    trigger: str
    label: str
    reason_label: str | None
    reason_required: bool
    style: str
    confirm: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "trigger": self.trigger,
            "label": self.label,
            "reason_required": self.reason_required,
            "reason_label": self.reason_label,
            "confirm": self.confirm,
        }


def spec(trigger: str) -> TransitionSpec:
    try:
        return BY_TRIGGER[trigger]
    except KeyError:
        raise WorkflowError("알 수 없는 작업입니다.", code="unknown_trigger") from None


def available_actions(recommendation: Recommendation, actor: User | None) -> list[Action]:
    """What this user may do with this item now, in the definition's order."""
    actions = []
    with bound(recommendation) as model:
        for item in TRANSITIONS:
            may = getattr(model, f"may_{item.trigger}")
            if may(actor=actor, probe=True):
                actions.append(
                    Action(
                        trigger=item.trigger,
                        label=item.label,
                        reason_label=item.reason_label,
                        reason_required=not may(actor=actor),
                        style=item.style,
                        confirm=item.confirm,
                    )
                )
    return actions


def check(recommendation: Recommendation, trigger: str, actor: User | None,
          reason: str | None = None) -> None:
    """Raise the refusal of the first guard that stops this trigger, or return."""
    item = spec(trigger)
    state = State(recommendation.state)
    if state not in item.sources:
        raise WorkflowError(
            f"'{state.label}' 상태에서는 '{item.label}'을(를) 할 수 없습니다.",
            code="invalid_state",
        )
    with bound(recommendation) as model:
        for transition in MACHINE.get_transitions(trigger=trigger, source=state.value):
            for condition in transition.conditions:
                guard = condition.func
                event = _GuardEvent(model, actor=actor, reason=reason)
                if not guard(event):
                    raise WorkflowError(guard.message, code=guard.code, status=_status(guard))


def _status(guard: Any) -> int:
    return 403 if guard.code in {"role_not_allowed", "team_not_assigned"} else 409


class _GuardEvent:
    def __init__(self, model: Any, **kwargs: Any) -> None:
        self.model = model
        self.kwargs = kwargs


def fire(recommendation: Recommendation, trigger: str, actor: User | None,
         reason: str | None = None, at: datetime | None = None) -> None:
    """Fire a trigger, or raise the refusal and change nothing.

    The caller flushes and commits; see ``auditflow.services.recommendations``.
    """
    check(recommendation, trigger, actor, reason)
    with bound(recommendation) as model:
        if not getattr(model, trigger)(actor=actor, reason=reason, at=at):
            raise WorkflowError(code="transition_refused")
