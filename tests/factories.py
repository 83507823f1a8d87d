"""Small factories so a test reads as a story: make what you need, act, assert."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date

from auditflow.extensions import db
from auditflow.models import Audit, OrgUnit, Recommendation, User
from auditflow.services import recommendations as ops
from auditflow.services.passwords import hash_password
from auditflow.vocabulary import Category

_counter = itertools.count(1)
PASSWORD = "Factory-pass-2025!"
_HASH: dict[str, str] = {}


def _password_hash() -> str:
    # argon2 is slow on purpose; one hash serves every factory user of the run.
    if PASSWORD not in _HASH:
        _HASH[PASSWORD] = hash_password(PASSWORD)
    return _HASH[PASSWORD]


class Factory:
    def team(self, name: str | None = None, kind: str = "team", parent: OrgUnit | None = None) -> OrgUnit:
        n = next(_counter)
        unit = OrgUnit(code=f"team-{n}", name=name or f"테스트{n}팀", kind=kind, parent=parent,
                       sort_order=n)
        db.session.add(unit)
        db.session.flush()
        return unit

    def user(self, role: str, team: OrgUnit | None = None, login: str | None = None,
             active: bool = True, email: str | None = None, manager: bool = False) -> User:
        n = next(_counter)
        if role == "department" and team is None:
            team = self.team()
        user = User(login=login or f"{role}-{n}", name=f"{role} 사용자 {n}", role=role, team=team,
                    active=active, password_hash=_password_hash(), email=email,
                    is_manager=manager)
        db.session.add(user)
        db.session.flush()
        return user

    def audit(self, year: int = 2025, title: str | None = None) -> Audit:
        n = next(_counter)
        audit = Audit(year=year, title=title or f"{year} 행정사무감사 {n}", body="서울특별시의회",
                      organisation="서울AI재단", received_on=date(year, 11, 11),
                      reference_date=date(year + 1, 1, 31))
        db.session.add(audit)
        db.session.flush()
        return audit

    def recommendation(self, *, audit: Audit | None = None, lead: OrgUnit | None = None,
                       supporting: Sequence[OrgUnit] = (), category: Category = Category.SUGGESTION,
                       state: str = "received", number: int | None = None,
                       text: str = "관련 방안을 마련하기 바람.") -> Recommendation:
        audit = audit or self.audit()
        registrar = self.user("audit")
        if lead is None:
            lead = self.team()
        number = number or next(_counter)
        recommendation = ops.register(audit, number=number, category=category, council_text=text,
                                      actor=registrar, lead_team=lead, supporting_teams=supporting)
        self.advance(recommendation, state, registrar)
        return recommendation

    def worked_item(self) -> tuple[Recommendation, User]:
        """An item in progress and a user of its lead team, committed."""
        recommendation = self.recommendation(state="in_progress")
        worker = self.user("department", team=recommendation.lead_team)
        db.session.commit()
        return recommendation, worker

    def advance(self, recommendation: Recommendation, state: str, auditor: User | None = None) -> None:
        """Reach ``state`` by firing the workflow's triggers, as people would."""
        if state == "received":
            return
        auditor = auditor or self.user("audit")
        worker = self.user("department", team=recommendation.lead_team)
        ops.fire(recommendation, "start", worker)
        ops.edit_result(recommendation, worker, action_details="ㅇ 조치 완료", future_plan=None)
        if state == "in_progress":
            return
        ops.fire(recommendation, "submit", worker)
        if state == "reviewing":
            return
        if state == "completed":
            ops.fire(recommendation, "approve", auditor, reason="증빙 불필요(테스트)")
        elif state == "not_reflected":
            ops.fire(recommendation, "decline", auditor, reason="반영 불가", confirmed=True)
        else:
            raise ValueError(state)
