from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditflow.extensions import Model
from auditflow.models.organisation import OrgUnit
from auditflow.models.team_request import TeamRequest, request_constraints


class TransferRequest(TeamRequest, Model):
    """The lead team's request to hand an item to another team (이관 요청).

    ``from_team`` is the lead team when it asked: an approval makes ``to_team`` the
    lead, and only while the item is still the asking team's.
    """

    __tablename__ = "transfer_request"
    __table_args__ = request_constraints("transfer_request")

    from_team_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    to_team_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))

    from_team: Mapped[OrgUnit] = relationship(foreign_keys=[from_team_id])
    to_team: Mapped[OrgUnit] = relationship(foreign_keys=[to_team_id])
