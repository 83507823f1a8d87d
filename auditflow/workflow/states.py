"""The states of a recommendation and how the report names them."""

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
        return _LABELS[self][0]

    @property
    def report_label(self) -> str:
        """The word after "□ 추진상황 :" in the council report."""
        return _LABELS[self][1]

    @property
    def badge(self) -> str:
        return _LABELS[self][2]


_LABELS = {
    State.RECEIVED: ("접수", "접수", "secondary"),
    State.IN_PROGRESS: ("추진 중", "추진중", "information"),
    State.REVIEWING: ("검토 중", "검토중", "warning"),
    State.COMPLETED: ("완료", "추진완료", "success"),
    State.NOT_REFLECTED: ("미반영", "미반영", "danger"),
}

INITIAL = State.RECEIVED
CLOSED = frozenset({State.COMPLETED, State.NOT_REFLECTED})

# Column order of the report's 조치내역 table; 접수 is shown only when some item is still received.
SUMMARY_ORDER = (
    State.COMPLETED,
    State.IN_PROGRESS,
    State.REVIEWING,
    State.NOT_REFLECTED,
    State.RECEIVED,
)
