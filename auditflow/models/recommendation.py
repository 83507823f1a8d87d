from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditflow.extensions import db
from auditflow.models.audit import Audit
from auditflow.models.base import UTCDateTime, utcnow
from auditflow.models.organisation import OrgUnit
from auditflow.workflow.states import INITIAL, State

if TYPE_CHECKING:
    from auditflow.models.comment import Comment
    from auditflow.models.evidence import Evidence
    from auditflow.models.history import History


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


def _in(values: type[enum.StrEnum]) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


recommendation_support_team = Table(
    "recommendation_support_team",
    db.metadata,
    Column("recommendation_id", ForeignKey("recommendation.id"), primary_key=True),
    Column("team_id", ForeignKey("org_unit.id"), primary_key=True),
)


class Recommendation(db.Model):
    """One item of the council's list, carried through the workflow.

    ``state`` is changed only by the workflow machine (``auditflow.workflow``);
    ``version`` makes a stale concurrent write fail instead of silently winning.
    """

    __tablename__ = "recommendation"
    __table_args__ = (
        UniqueConstraint("audit_id", "number", name="uq_recommendation_audit_number"),
        CheckConstraint(f"state IN ({_in(State)})", name="ck_recommendation_state"),
        CheckConstraint(f"category IN ({_in(Category)})", name="ck_recommendation_category"),
        CheckConstraint("number > 0", name="ck_recommendation_number_positive"),
        Index("ix_recommendation_audit_category_state", "audit_id", "category", "state"),
        Index("ix_recommendation_lead_team_id", "lead_team_id"),
        Index("ix_recommendation_due_date", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit.id"))
    number: Mapped[int]
    category: Mapped[str] = mapped_column(String(20))
    council_text: Mapped[str] = mapped_column(Text)
    lead_team_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    due_date: Mapped[date | None]
    state: Mapped[str] = mapped_column(String(20), default=INITIAL.value)
    # 추진내용: an outline, one entry per line, marker first (ㅇ / - / ※), nesting by indentation.
    action_details: Mapped[str] = mapped_column(Text, default="")
    future_plan: Mapped[str | None] = mapped_column(Text)  # 향후계획
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}

    audit: Mapped[Audit] = relationship()
    lead_team: Mapped[OrgUnit | None] = relationship(foreign_keys=[lead_team_id])
    supporting_teams: Mapped[list[OrgUnit]] = relationship(
        secondary=recommendation_support_team, order_by=OrgUnit.sort_order
    )
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="recommendation", order_by="Evidence.id"
    )
    history: Mapped[list[History]] = relationship(
        order_by="(History.at, History.id)", viewonly=True
    )
    comments: Mapped[list[Comment]] = relationship(order_by="Comment.id", viewonly=True)

    @property
    def state_enum(self) -> State:
        return State(self.state)

    @property
    def category_enum(self) -> Category:
        return Category(self.category)

    @property
    def team_ids(self) -> set[int]:
        ids = {team.id for team in self.supporting_teams}
        if self.lead_team_id is not None:
            ids.add(self.lead_team_id)
        return ids

    @property
    def current_evidence(self) -> list[Evidence]:
        return [item for item in self.evidence if item.deleted_at is None]

    def __repr__(self) -> str:
        return f"<Recommendation {self.audit_id}-{self.number} {self.state}>"


# Who may do what outside the workflow's triggers (those live in auditflow.workflow).
# Each rule is written once, here; ``visible_filter`` is ``can_view`` as SQL.
READER_ROLES = frozenset({"admin", "audit", "liaison"})  # see every item


def _is_assigned(recommendation: Recommendation, user: object) -> bool:
    team_id = getattr(user, "team_id", None)
    return team_id is not None and team_id in recommendation.team_ids


def can_view(recommendation: Recommendation, user: object) -> bool:
    role = getattr(user, "role", None)
    if role in READER_ROLES:
        return True
    return role == "department" and _is_assigned(recommendation, user)


def visible_filter(user: object):  # noqa: ANN201 (a SQL expression)
    """A WHERE clause: the recommendations ``user`` may see, for lists and counts."""
    from sqlalchemy import false, or_, select, true

    role = getattr(user, "role", None)
    if role in READER_ROLES:
        return true()
    team_id = getattr(user, "team_id", None)
    if role != "department" or team_id is None:
        return false()
    supporting = select(recommendation_support_team.c.recommendation_id).where(
        recommendation_support_team.c.team_id == team_id
    )
    return or_(Recommendation.lead_team_id == team_id, Recommendation.id.in_(supporting))


def can_comment(recommendation: Recommendation, user: object) -> bool:
    """The audit team and the teams assigned to the item; everybody else only reads."""
    role = getattr(user, "role", None)
    return role == "audit" or (role == "department" and _is_assigned(recommendation, user))


def can_manage(recommendation: Recommendation, user: object) -> bool:
    """Register, edit the council text, assign teams, set the due date: the audit team."""
    return getattr(user, "role", None) == "audit"


def can_edit_result(recommendation: Recommendation, user: object) -> bool:
    """추진내용 and 향후계획: the assigned teams while they work on it; the audit team also in review."""
    state = recommendation.state
    role = getattr(user, "role", None)
    if role == "department":
        return _is_assigned(recommendation, user) and state == State.IN_PROGRESS
    return role == "audit" and state in {State.IN_PROGRESS, State.REVIEWING}


def can_change_evidence(recommendation: Recommendation, user: object) -> bool:
    """Upload or delete evidence: the assigned teams until they submit."""
    return (
        getattr(user, "role", None) == "department"
        and _is_assigned(recommendation, user)
        and recommendation.state in {State.RECEIVED, State.IN_PROGRESS}
    )
