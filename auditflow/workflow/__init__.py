"""The recommendation workflow, defined once (``definition``) and run by one machine.

``states`` and ``errors`` import nothing of the models, so the models may use
them; the definition and the machine are loaded on first use.
"""

from __future__ import annotations

from typing import Any

from auditflow.workflow.errors import ConflictError, WorkflowError
from auditflow.workflow.states import CLOSED, INITIAL, SUMMARY_ORDER, State

_LAZY = {
    "TRANSITIONS": "auditflow.workflow.definition",
    "BY_TRIGGER": "auditflow.workflow.definition",
    "TransitionSpec": "auditflow.workflow.definition",
    "Action": "auditflow.workflow.machine",
    "available_actions": "auditflow.workflow.machine",
    "check": "auditflow.workflow.machine",
    "fire": "auditflow.workflow.machine",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)


__all__ = [
    "BY_TRIGGER",
    "CLOSED",
    "INITIAL",
    "SUMMARY_ORDER",
    "TRANSITIONS",
    "Action",
    "ConflictError",
    "State",
    "TransitionSpec",
    "WorkflowError",
    "available_actions",
    "check",
    "fire",
]
