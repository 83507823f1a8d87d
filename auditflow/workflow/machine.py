"""The ``transitions`` machines of the process, and the questions callers ask them.

A ``Workflow`` is one table of transitions (``definition.py``) run by one machine:
the recommendation's (``ITEMS``), the due-date extension request's (``EXTENSIONS``) and
the transfer request's (``TRANSFERS``).
For each, ``refusal`` is the only answer to "may this user fire this trigger now, and
if not, why not": the buttons and the API's ``allowed_actions`` (``available_actions``)
ask it, ``fire`` asks it before firing, and it is the machine's own condition on every
transition, so a trigger fired on a bound model is held to the same rules.

Objects loaded from the database are attached to the machine only while a trigger is
fired (``bound``), with their stored state, and detached afterwards so the machine holds
no reference to them. The machine's ``after_state_change`` writes the history row.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
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
from auditflow.vocabulary import INITIAL, HistoryKind, RequestState, State
from auditflow.workflow.definition import (
    EXTENSION_TRANSITIONS,
    TRANSFER_TRANSITIONS,
    TRANSITIONS,
    TransitionSpec,
)
from auditflow.workflow.errors import WorkflowError
from auditflow.workflow.guards import Attempt

if TYPE_CHECKING:
    from auditflow.models.extension import DueDateExtension
    from auditflow.models.recommendation import Recommendation
    from auditflow.models.transfer import TransferRequest
    from auditflow.models.user import User


@dataclass(frozen=True)
class Action:
    """A trigger the user may fire now, as a button or an API entry."""

    trigger: str
    label: str
    reason_label: str | None
    reason_required: bool
    style: str
    confirm: bool = False
    hint: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "trigger": self.trigger,
            "label": self.label,
            "reason_required": self.reason_required,
            "reason_label": self.reason_label,
            "confirm": self.confirm,
            "hint": self.hint,
        }


class Workflow:
    def __init__(self, *, states: type[enum.StrEnum], initial: enum.StrEnum,
                 transitions: tuple[TransitionSpec, ...],
                 record: Callable[[EventData], None],
                 item_of: Callable[[Any], Recommendation]) -> None:
        self.states = states
        self.transitions = transitions
        self.by_trigger = {spec.trigger: spec for spec in transitions}
        self.item_of = item_of
        self.machine = Machine(
            model=None,
            states=[state.value for state in states],
            initial=initial.value,
            transitions=[
                {
                    "trigger": item.trigger,
                    "source": [source.value for source in item.sources],
                    "dest": item.dest.value,
                    "conditions": [self._permitted],
                }
                for item in transitions
            ],
            model_attribute="state",
            auto_transitions=False,
            send_event=True,
            after_state_change=[record],
        )
        self._bound_names = (
            ["trigger", "may_trigger"]
            + [name for item in transitions for name in (item.trigger, f"may_{item.trigger}")]
            + [f"is_{state.value}" for state in states]
        )

    def spec(self, trigger: str) -> TransitionSpec:
        try:
            return self.by_trigger[trigger]
        except KeyError:
            raise WorkflowError("알 수 없는 작업입니다.", code="unknown_trigger",
                                status=404) from None

    def refusal(self, subject: Any, trigger: str, actor: Actor | None, *,
                reason: str | None = None, confirmed: bool = False,
                probe: bool = False) -> WorkflowError | None:
        """Why ``actor`` may not fire ``trigger`` on ``subject`` now, or None if they may.

        With ``probe`` the input a form asks for (a reason, a confirmation) is taken as
        given: the question is then whether to offer the action at all.
        """
        item = self.spec(trigger)
        state = self.states(subject.state)
        if state not in item.sources:
            label = getattr(state, "label", state.value)
            return WorkflowError(
                f"'{label}' 상태에서는 '{item.label}'{particle(item.label, '을/를')} 할 수 없습니다.",
                code="invalid_state",
            )
        attempt = Attempt(self.item_of(subject), actor, (reason or "").strip(), confirmed, probe,
                          subject=subject)
        for guard in item.guards:
            if guard.refuses(attempt):
                return WorkflowError(guard.message, code=guard.code, status=guard.status)
        return None

    def _permitted(self, event: EventData) -> bool:
        kwargs = event.kwargs
        return self.refusal(event.model, event.event.name, kwargs.get("actor"),
                            reason=kwargs.get("reason"),
                            confirmed=bool(kwargs.get("confirmed"))) is None

    @contextmanager
    def bound(self, subject: Any) -> Iterator[Any]:
        """Attach ``subject`` to the machine with its stored state, for one use."""
        self.machine.add_model(subject, initial=subject.state)
        try:
            yield subject
        finally:
            self.machine.remove_model(subject)
            for name in self._bound_names:
                subject.__dict__.pop(name, None)

    def available_actions(self, subject: Any, actor: Actor | None) -> list[Action]:
        """What this user may do with ``subject`` now, in the definition's order."""
        actions = []
        for item in self.transitions:
            if self.refusal(subject, item.trigger, actor, probe=True) is not None:
                continue
            # Confirmed but without a reason: refused only when a reason is needed.
            needs_reason = self.refusal(subject, item.trigger, actor, confirmed=True) is not None
            asks_reason = needs_reason or not item.reason_only_when_required
            actions.append(Action(trigger=item.trigger, label=item.label,
                                  reason_label=item.reason_label if asks_reason else None,
                                  reason_required=needs_reason, style=item.style,
                                  confirm=item.confirm, hint=item.hint))
        return actions

    def fire(self, subject: Any, trigger: str, actor: User | None, *,
             reason: str | None = None, confirmed: bool = False,
             at: datetime | None = None) -> None:
        """Fire a trigger, or raise its refusal and change nothing. The caller flushes."""
        refused = self.refusal(subject, trigger, actor, reason=reason, confirmed=confirmed)
        if refused is not None:
            raise refused
        with self.bound(subject) as model:
            if not model.trigger(trigger, actor=actor, reason=reason, confirmed=confirmed, at=at):
                raise WorkflowError(code="transition_refused")


def _history_session(subject: Any) -> Any:
    session = object_session(subject)
    if session is None:
        raise RuntimeError("an object must belong to a session to change state")
    return session


def _record_transition(event: EventData) -> None:
    """After every state change of an item: the history row, in the same transaction."""
    recommendation = event.model
    assert event.transition is not None
    _history_session(recommendation).add(
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


def _record_extension(event: EventData) -> None:
    """After every state change of an extension request: a row in its item's history."""
    extension: DueDateExtension = cast("DueDateExtension", event.model)
    _history_session(extension).add(
        History(
            recommendation=extension.recommendation,
            at=event.kwargs.get("at") or utcnow(),
            actor=event.kwargs.get("actor"),
            kind=HistoryKind.EXTENSION.value,
            trigger=event.event.name,
            # No field: the item's due date changes only by its own due_date row.
            old_value=extension.previous_due.isoformat() if extension.previous_due else None,
            new_value=extension.requested_due.isoformat(),
            comment=(event.kwargs.get("reason") or "").strip() or None,
        )
    )


def _record_transfer(event: EventData) -> None:
    """After every state change of a transfer request: a row in its item's history."""
    transfer: TransferRequest = cast("TransferRequest", event.model)
    session = _history_session(transfer)
    # The teams' names may still have to be loaded: not before the decision is stamped.
    with session.no_autoflush:
        session.add(
            History(
                recommendation=transfer.recommendation,
                at=event.kwargs.get("at") or utcnow(),
                actor=event.kwargs.get("actor"),
                kind=HistoryKind.TRANSFER.value,
                trigger=event.event.name,
                # No field: the teams change only by their own assignment row.
                old_value=transfer.from_team.name,
                new_value=transfer.to_team.name,
                comment=(event.kwargs.get("reason") or "").strip() or None,
            )
        )


ITEMS = Workflow(states=State, initial=INITIAL, transitions=TRANSITIONS,
                 record=_record_transition, item_of=lambda subject: subject)
EXTENSIONS = Workflow(states=RequestState, initial=RequestState.PENDING,
                      transitions=EXTENSION_TRANSITIONS, record=_record_extension,
                      item_of=lambda extension: extension.recommendation)
TRANSFERS = Workflow(states=RequestState, initial=RequestState.PENDING,
                     transitions=TRANSFER_TRANSITIONS, record=_record_transfer,
                     item_of=lambda transfer: transfer.recommendation)

# The item workflow, as the rest of the application asks it.
MACHINE = ITEMS.machine
spec = ITEMS.spec
refusal = ITEMS.refusal
available_actions = ITEMS.available_actions
bound = ITEMS.bound
fire = ITEMS.fire
