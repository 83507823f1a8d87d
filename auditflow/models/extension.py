from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Mapped

from auditflow.extensions import Model
from auditflow.models.team_request import TeamRequest, request_constraints


class DueDateExtension(TeamRequest, Model):
    """An assigned team's request to move an item's due date (기한 연장 요청).

    The due date the item had when asked is kept, so the original date is never lost.
    """

    __tablename__ = "due_date_extension"
    __table_args__ = request_constraints("due_date_extension")

    previous_due: Mapped[date | None]  # the item's due date when the team asked
    requested_due: Mapped[date]
