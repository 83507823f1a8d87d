"""The words of the domain: states, categories, roles, unit kinds, history kinds and fields.

A leaf: it imports nothing of the application, so models, the workflow, the
permission model, reports and the web layer can all use it without cycles.
Values are what the database stores; ``label`` is what a Korean reader sees.
"""

from __future__ import annotations

import enum


class State(enum.StrEnum):
    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    REVIEWING = "reviewing"
    COMPLETED = "completed"
    NOT_REFLECTED = "not_reflected"

    @property
    def label(self) -> str:
        """The word used in tables and on badges."""
        return _STATE_LABELS[self][0]

    @property
    def report_label(self) -> str:
        """The word after "□ 추진상황 :" in the council report."""
        return _STATE_LABELS[self][1]

    @property
    def badge(self) -> str:
        return _STATE_LABELS[self][2]

    @property
    def is_closed(self) -> bool:
        return self in CLOSED


_STATE_LABELS = {
    State.RECEIVED: ("접수", "접수", "secondary"),
    State.IN_PROGRESS: ("추진 중", "추진중", "information"),
    State.REVIEWING: ("검토 중", "검토중", "warning"),
    State.COMPLETED: ("완료", "추진완료", "success"),
    State.NOT_REFLECTED: ("미반영", "미반영", "danger"),
}

INITIAL = State.RECEIVED
CLOSED = frozenset({State.COMPLETED, State.NOT_REFLECTED})
OPEN_STATES = tuple(state for state in State if state not in CLOSED)
# States whose item must carry its 추진내용: it was handed over for review with it.
RESULT_REQUIRED = frozenset({State.REVIEWING, State.COMPLETED, State.NOT_REFLECTED})

# Column order of the report's 조치내역 table; 접수 is shown only when some item is still received.
SUMMARY_ORDER = (
    State.COMPLETED,
    State.IN_PROGRESS,
    State.REVIEWING,
    State.NOT_REFLECTED,
    State.RECEIVED,
)


class Category(enum.StrEnum):
    CORRECTIVE = "corrective"
    SUGGESTION = "suggestion"
    OTHER = "other"

    @property
    def label(self) -> str:
        """The name used in the summary table and the JSON output."""
        return _CATEGORY_LABELS[self][0]

    @property
    def heading(self) -> str:
        """The section heading of the council report."""
        return _CATEGORY_LABELS[self][1]

    @classmethod
    def from_label(cls, label: str) -> Category:
        for category in cls:
            if label in (category.value, category.label):
                return category
        raise ValueError(label)


_CATEGORY_LABELS = {
    Category.CORRECTIVE: ("시정·처리요구사항", "시정·처리 요구사항"),
    Category.SUGGESTION: ("건의사항", "건의 사항"),
    Category.OTHER: ("기타(자료제출 등)", "기타 사항"),
}


class Role(enum.StrEnum):
    """Who a user is. What each role may do is the permission model's table
    (``auditflow.permissions``), never a comparison with a role elsewhere."""

    ADMIN = "admin"
    AUDIT = "audit"
    DEPARTMENT = "department"
    LIAISON = "liaison"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.ADMIN: "시스템 관리자",
    Role.AUDIT: "감사팀",
    Role.DEPARTMENT: "부서 담당자",
    Role.LIAISON: "의회 담당관",
}


class UnitKind(enum.StrEnum):
    DIVISION = "division"
    TEAM = "team"
    TASK_FORCE = "task_force"

    @property
    def label(self) -> str:
        return {"division": "본부", "team": "팀", "task_force": "TF"}[self.value]


class HistoryKind(enum.StrEnum):
    CREATED = "created"
    TRANSITION = "transition"
    ASSIGNMENT = "assignment"
    DUE_DATE = "due_date"
    RESULT = "result"
    TEXT = "text"
    EVIDENCE = "evidence"
    EXTENSION = "extension"
    TRANSFER = "transfer"

    @property
    def label(self) -> str:
        return {
            "extension": "기한 연장 요청",
            "transfer": "이관 요청",
            "created": "등록",
            "transition": "상태 변경",
            "assignment": "담당 부서 지정",
            "due_date": "기한 변경",
            "result": "조치결과 수정",
            "text": "요구사항 수정",
            "evidence": "증빙자료",
        }[self.value]


class Field(enum.StrEnum):
    """The item fields history rows name (``History.field``)."""

    COUNCIL_TEXT = "council_text"
    CATEGORY = "category"
    TEAMS = "teams"
    DUE_DATE = "due_date"
    ACTION_DETAILS = "action_details"
    FUTURE_PLAN = "future_plan"
    EVIDENCE = "evidence"

    @property
    def label(self) -> str:
        return _FIELD_LABELS[self]


_FIELD_LABELS = {
    Field.COUNCIL_TEXT: "요구사항 내용",
    Field.CATEGORY: "구분",
    Field.TEAMS: "담당 부서",
    Field.DUE_DATE: "처리 기한",
    Field.ACTION_DETAILS: "추진내용",
    Field.FUTURE_PLAN: "향후계획",
    Field.EVIDENCE: "증빙자료",
}



class NotificationKind(enum.StrEnum):
    """What a notification is about. Every kind is shown in the app; each user chooses
    per kind whether it also comes by e-mail."""

    ASSIGNED = "assigned"
    RETURNED = "returned"
    APPROVED = "approved"
    DECLINED = "declined"
    REOPENED = "reopened"
    COMMENTED = "commented"
    EXTENSION_DECIDED = "extension_decided"
    TRANSFER_DECIDED = "transfer_decided"
    DIGEST = "digest"

    @property
    def label(self) -> str:
        return _NOTIFICATION_LABELS[self]


_NOTIFICATION_LABELS = {
    NotificationKind.ASSIGNED: "담당 부서로 지정됨",
    NotificationKind.RETURNED: "보완 요청",
    NotificationKind.APPROVED: "승인(완료)",
    NotificationKind.DECLINED: "미반영 처리",
    NotificationKind.REOPENED: "재추진",
    NotificationKind.COMMENTED: "새 의견",
    NotificationKind.EXTENSION_DECIDED: "기한 연장 결정",
    NotificationKind.TRANSFER_DECIDED: "이관 요청 결정",
    NotificationKind.DIGEST: "처리 기한 알림(매일)",
}


class Delivery(enum.StrEnum):
    """Where an e-mail of the outbox stands."""

    PENDING = "pending"  # waiting to be sent, or to be tried again
    SENDING = "sending"  # claimed by a worker
    SENT = "sent"
    FAILED = "failed"  # given up after the last retry


class RequestState(enum.StrEnum):
    """A team's request the audit team decides: a later due date (기한 연장 요청) or
    another lead team (이관 요청)."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return {"pending": "결정 대기", "approved": "승인", "declined": "반려",
                "withdrawn": "취소"}[self.value]


class ReportJobKind(enum.StrEnum):
    """What the worker makes for the summary page: an edition (발행), one large file, or the
    check of an issued edition against its history (검증)."""

    ISSUE = "issue"
    DOWNLOAD = "download"
    VERIFY = "verify"  # an issued edition made again from the history and compared (검증)

    @property
    def label(self) -> str:
        return {"issue": "발행", "download": "파일 만들기", "verify": "검증"}[self.value]


class ReportJobState(enum.StrEnum):
    """Where a report job stands. Queued and running jobs are active: one per audit and day
    for an edition, one per audit, day, format and choice for a file."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"queued": "대기 중", "running": "만드는 중", "done": "완료",
                "failed": "실패"}[self.value]


ACTIVE_JOB_STATES = (ReportJobState.QUEUED, ReportJobState.RUNNING)
class TokenScope(enum.StrEnum):
    """What a personal access token of the JSON API may do: read, or read and write."""

    READ = "read"
    WRITE = "write"

    @property
    def label(self) -> str:
        return {"read": "읽기 전용", "write": "읽기·쓰기"}[self.value]
