"""The one ``transitions`` machine of the process, and the questions callers ask it.

``refusal`` is the only answer to "may this user fire this trigger now, and if
not, why not": the buttons and the API's ``allowed_actions``
(``available_actions``) ask it, ``fire`` asks it before firing, and it is the
machine's own condition on every transition, so a trigger fired on a bound
model is held to the same rules.

Recommendations loaded from the database are attached to the machine only
while a trigger is fired (``bound``), with their stored state, and detached
afterwards so the machine holds no reference to them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy.orm import object_session
from transitions import EventData, Machine

from auditflow.korean import particle
from auditflow.models.base import utcnow
from auditflow.models.history import History
from auditflow.permissions import Actor
from auditflow.vocabulary import INITIAL, HistoryKind, State
from auditflow.workflow.definition import BY_TRIGGER, TRANSITIONS, TransitionSpec
from auditflow.workflow.errors import WorkflowError
from auditflow.workflow.guards import Attempt

if TYPE_CHECKING:
    from auditflow.models.recommendation import Recommendation
    from auditflow.models.user import User


def spec(trigger: str) -> TransitionSpec:
    try:
        return BY_TRIGGER[trigger]
    except KeyError:
        raise WorkflowError("알 수 없는 작업입니다.", code="unknown_trigger", status=404) from None


def refusal(recommendation: Recommendation, trigger: str, actor: Actor | None, *,
            reason: str | None = None, confirmed: bool = False,
            probe: bool = False) -> WorkflowError | None:
    """Why ``actor`` may not fire ``trigger`` on ``recommendation`` now, or None if they may.

    With ``probe`` the input a form asks for (a reason, a confirmation) is taken
    as given: the question is then whether to offer the action at all.
    """
    item = spec(trigger)
    state = State(recommendation.state)
    if state not in item.sources:
        return WorkflowError(
            f"'{state.label}' 상태에서는 '{item.label}'{particle(item.label, '을/를')} 할 수 없습니다.",
            code="invalid_state",
        )
    attempt = Attempt(recommendation, actor, (reason or "").strip(), confirmed, probe)
    for guard in item.guards:
        if guard.refuses(attempt):
            return WorkflowError(guard.message, code=guard.code, status=guard.status)
    return None


def _permitted(event: EventData) -> bool:
    """The machine's condition on every transition: the same ``refusal``."""
    kwargs = event.kwargs
    recommendation = cast("Recommendation", event.model)
    return refusal(recommendation, event.event.name, kwargs.get("actor"),
                   reason=kwargs.get("reason"), confirmed=bool(kwargs.get("confirmed"))) is None


def _record_transition(event: EventData) -> None:
    """After every state change: the history row, in the same session and transaction."""
    recommendation = event.model
    session = object_session(recommendation)
    if session is None:
        raise RuntimeError("a recommendation must belong to a session to change state")
    assert event.transition is not None
    session.add(
        History(
            recommendation=recommendation,
            at=event.kwargs.get("at") or utcnow(),
            actor=event.kwargs.get("actor"),
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
                "trigger": item.trigger,
                "source": [source.value for source in item.sources],
                "dest": item.dest.value,
                "conditions": [_permitted],
            }
            for item in TRANSITIONS
        ],
        model_attribute="state",
        auto_transitions=False,
        send_event=True,
        after_state_change=[_record_transition],
    )


MACHINE = _build()

_BOUND_NAMES = (
    ["trigger", "may_trigger"]
    + [name for item in TRANSITIONS for name in (item.trigger, f"may_{item.trigger}")]
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


def available_actions(recommendation: Recommendation, actor: Actor | None) -> list[Action]:
    """What this user may do with this item now, in the definition's order."""
    actions = []
    for item in TRANSITIONS:
        if refusal(recommendation, item.trigger, actor, probe=True) is not None:
            continue
        # Confirmed but without a reason: refused only when a reason is needed.
        needs_reason = refusal(recommendation, item.trigger, actor, confirmed=True) is not None
        actions.append(
            Action(
                trigger=item.trigger,
                label=item.label,
                reason_label=item.reason_label,
                reason_required=needs_reason,
                style=item.style,
                confirm=item.confirm,
            )
        )
    return actions


def fire(recommendation: Recommendation, trigger: str, actor: User | None, *,
         reason: str | None = None, confirmed: bool = False, at: datetime | None = None) -> None:
    """Fire a trigger, or raise its refusal and change nothing.

    The caller flushes and commits; see ``auditflow.services.recommendations``.
    """
    refused = refusal(recommendation, trigger, actor, reason=reason, confirmed=confirmed)
    if refused is not None:
        raise refused
    with bound(recommendation) as model:
        if not model.trigger(trigger, actor=actor, reason=reason, confirmed=confirmed, at=at):
            raise WorkflowError(code="transition_refused")
