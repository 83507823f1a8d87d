"""The recommendation workflow, defined once (``definition``) and run by one machine (``machine``).

The workflow sits above the models: it reads and changes them, they never
import it. Its words (``State`` and friends) live in ``auditflow.vocabulary``.
"""

from __future__ import annotations

from auditflow.workflow.definition import (
    BY_TRIGGER,
    EXTENSION_TRANSITIONS,
    EXTENSIONS_CAPABILITIES,
    TRANSFER_TRANSITIONS,
    TRANSFERS_CAPABILITIES,
    TRANSITIONS,
    TRIGGER_CAPABILITIES,
    TransitionSpec,
)
from auditflow.workflow.errors import ConflictError, WorkflowError
from auditflow.workflow.machine import (
    EXTENSIONS,
    ITEMS,
    TRANSFERS,
    Action,
    Workflow,
    available_actions,
    fire,
    refusal,
    spec,
)

__all__ = [
    "BY_TRIGGER",
    "EXTENSIONS",
    "EXTENSIONS_CAPABILITIES",
    "EXTENSION_TRANSITIONS",
    "ITEMS",
    "TRANSFERS",
    "TRANSFERS_CAPABILITIES",
    "TRANSFER_TRANSITIONS",
    "Workflow",
    "TRANSITIONS",
    "TRIGGER_CAPABILITIES",
    "Action",
    "ConflictError",
    "TransitionSpec",
    "WorkflowError",
    "available_actions",
    "fire",
    "refusal",
    "spec",
]
