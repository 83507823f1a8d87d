from __future__ import annotations

from auditflow.errors import DomainError


class WorkflowError(DomainError):
    """A trigger was refused; nothing changed."""

    code = "transition_refused"
    message = "지금은 이 작업을 할 수 없습니다."
    status = 409


class ConflictError(WorkflowError):
    """Somebody else changed the item between our read and our write."""

    code = "conflict"
    message = "다른 사용자가 먼저 변경했습니다. 화면을 새로 고친 뒤 다시 시도하세요."
    status = 409
