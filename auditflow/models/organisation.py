from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditflow.extensions import Model
from auditflow.vocabulary import UnitKind


class OrgUnit(Model):
    """A division (본부), a team (팀) or a task force (TF) of the audited body."""

    __tablename__ = "org_unit"
    __table_args__ = (
        CheckConstraint("kind IN ('division', 'team', 'task_force')", name="ck_org_unit_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    duties: Mapped[str] = mapped_column(Text, default="")
    sort_order: Mapped[int] = mapped_column(default=0)

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[OrgUnit]] = relationship(
        back_populates="parent", order_by="OrgUnit.sort_order"
    )

    @property
    def is_assignable(self) -> bool:
        """Recommendations go to teams and task forces, not to whole divisions."""
        return self.kind != UnitKind.DIVISION

    def __repr__(self) -> str:
        return f"<OrgUnit {self.code} {self.name}>"
