from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    ColumnElement,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    column,
    false,
    or_,
    select,
    table,
    true,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from auditflow.extensions import Model, db
from auditflow.models import text_index
from auditflow.models.audit import Audit
from auditflow.models.base import UTCDateTime, sql_in, utcnow
from auditflow.models.organisation import OrgUnit
from auditflow.permissions import Actor, Capability
from auditflow.vocabulary import INITIAL, RESULT_REQUIRED, Category, State

if TYPE_CHECKING:
    from auditflow.models.comment import Comment
    from auditflow.models.evidence import Evidence
    from auditflow.models.history import History


# The history table as the item's own column_property reads it (the model lives in
# models/history.py, which imports this module).
_HISTORY = table("history", column("recommendation_id"), column("kind"), column("trigger"),
                 column("at"), column("id"))
RETURN_TRIGGER = "return_for_rework"


recommendation_support_team = Table(
    "recommendation_support_team",
    db.metadata,
    Column("recommendation_id", ForeignKey("recommendation.id"), primary_key=True),
    Column("team_id", ForeignKey("org_unit.id"), primary_key=True),
)


class Recommendation(Model):
    """One item of the council's list, carried through the workflow.

    ``state`` is changed only by the workflow machine (``auditflow.workflow``);
    ``version`` makes a stale concurrent write fail instead of silently winning.
    """

    __tablename__ = "recommendation"
    __table_args__ = (
        UniqueConstraint("audit_id", "number", name="uq_recommendation_audit_number"),
        CheckConstraint(f"state IN ({sql_in(State)})", name="ck_recommendation_state"),
        CheckConstraint(f"category IN ({sql_in(Category)})", name="ck_recommendation_category"),
        CheckConstraint("number > 0", name="ck_recommendation_number_positive"),
        # An item handed over for review carries its result; one being worked on has a team.
        CheckConstraint(
            f"state NOT IN ({sql_in(sorted(RESULT_REQUIRED))}) "
            "OR trim(action_details) <> ''",
            name="ck_recommendation_result_required",
        ),
        CheckConstraint(
            f"state = '{INITIAL.value}' OR lead_team_id IS NOT NULL",
            name="ck_recommendation_lead_team_required",
        ),
        Index("ix_recommendation_audit_category_state", "audit_id", "category", "state"),
        Index("ix_recommendation_lead_team_id", "lead_team_id"),
        Index("ix_recommendation_due_date", "due_date"),
        Index("ix_recommendation_created_at", "created_at"),  # 미완료 현황's order
        Index("ix_recommendation_state_due", "state", "due_date", "id"),  # 내 할 일's order
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
    # The trigger of the latest state change, from the history: "return_for_rework" while
    # the item is back with its team (보완 요청). Deferred; lists undefer it, at the cost of
    # one subquery per row on the (recommendation_id, at, id) index.
    last_trigger: Mapped[str | None] = column_property(
        select(_HISTORY.c.trigger)
        .where(_HISTORY.c.recommendation_id == id, _HISTORY.c.kind == "transition")
        .order_by(_HISTORY.c.at.desc(), _HISTORY.c.id.desc())
        .limit(1)
        .correlate_except(_HISTORY)
        .scalar_subquery(),
        deferred=True,
    )

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

    @property
    def has_action_details(self) -> bool:
        return bool((self.action_details or "").strip())

    @property
    def is_returned(self) -> bool:
        """Sent back to its team for rework (보완 요청) and not handed in again yet."""
        return self.state_enum == State.IN_PROGRESS and self.last_trigger == RETURN_TRIGGER

    # Who may do what to this item, outside the workflow's triggers (those are the
    # workflow's guards, which ask ``is_assigned`` too). Capabilities come from the
    # permission model; ``visible_to`` is ``can_view`` as SQL.

    def is_assigned(self, user: Actor) -> bool:
        """The user belongs to the item's lead team or one of its supporting teams."""
        return user.team_id is not None and user.team_id in self.team_ids

    def is_lead(self, user: Actor) -> bool:
        """The user belongs to the item's lead team (주관 부서)."""
        return user.team_id is not None and user.team_id == self.lead_team_id

    def works_on(self, user: Actor) -> bool:
        """The user works on this item: a team user of one of its teams."""
        return user.can(Capability.WORK_ON_ASSIGNED_ITEMS) and self.is_assigned(user)

    def can_view(self, user: Actor) -> bool:
        return user.can(Capability.VIEW_ALL_ITEMS) or self.works_on(user)

    def can_manage(self, user: Actor) -> bool:
        """Edit the council text, assign teams, set the due date."""
        return user.can(Capability.MANAGE_ITEMS)

    def can_comment(self, user: Actor) -> bool:
        """The audit team and the teams working on the item; everybody else only reads."""
        return user.can(Capability.MANAGE_ITEMS) or self.works_on(user)

    def can_edit_result(self, user: Actor) -> bool:
        """추진내용 and 향후계획: its teams while they work on it; reviewers also in review."""
        state = self.state_enum
        if self.works_on(user) and state == State.IN_PROGRESS:
            return True
        return user.can(Capability.REVIEW_ITEMS) and state in {State.IN_PROGRESS, State.REVIEWING}

    def can_change_evidence(self, user: Actor) -> bool:
        """Upload or delete evidence: its teams until they submit."""
        return self.works_on(user) and self.state_enum in {State.RECEIVED, State.IN_PROGRESS}

    @classmethod
    def assigned_to_team(cls, team_id: int) -> ColumnElement[bool]:
        """SQL: the items ``team_id`` leads or supports (``is_assigned`` for a query)."""
        supporting = select(recommendation_support_team.c.recommendation_id).where(
            recommendation_support_team.c.team_id == team_id
        )
        return or_(cls.lead_team_id == team_id, cls.id.in_(supporting))

    @staticmethod
    def visibility_key(user: Actor) -> tuple[Any, ...]:
        """What ``visible_to`` depends on: users with the same key see the same items."""
        if user.can(Capability.VIEW_ALL_ITEMS):
            return ("all",)
        if user.can(Capability.WORK_ON_ASSIGNED_ITEMS) and user.team_id is not None:
            return ("team", user.team_id)
        return ("none",)

    @classmethod
    def visible_to(cls, user: Actor) -> ColumnElement[bool]:
        """SQL: the items ``user`` may see, for lists and counts (``can_view`` for a query)."""
        match cls.visibility_key(user):
            case ("all",):
                return true()
            case ("team", team_id):
                return cls.assigned_to_team(team_id)
        return false()

    def __repr__(self) -> str:
        return f"<Recommendation {self.audit_id}-{self.number} {self.state}>"


text_index.attach(Recommendation.__table__)  # type: ignore[arg-type]


# The list's order (newest audit first, then by number), read in order: a page of the list is
# its first rows, not a sort of every item of the newest audit (reports/item_search.py).
Index("ix_recommendation_list_order", Recommendation.audit_id.desc(), Recommendation.number)
