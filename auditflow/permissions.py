"""The permission model: what each role may do, written once.

A capability is a kind of work ("review results", "issue reports"); the table
below gives each role its capabilities. Views declare the capability they need
(``auditflow.http.access.require``), the navigation and the templates ask
``user.can(...)``, services check the same capability before they change
anything, and the workflow's guards ask it too. What a user may do to *one*
recommendation (see it, comment on it, write its result, change its evidence)
is a method of ``Recommendation`` built on these capabilities and on one
"is this user on the item's team" test.

Nothing outside this module and the user model compares a role with anything;
``tests/test_permissions.py`` fails when something does.
"""

from __future__ import annotations

import enum
from typing import Protocol

from auditflow.vocabulary import Role


class Capability(enum.StrEnum):
    VIEW_ALL_ITEMS = "view_all_items"
    VIEW_REPORTS = "view_reports"
    MANAGE_ITEMS = "manage_items"
    REVIEW_ITEMS = "review_items"
    WORK_ON_ASSIGNED_ITEMS = "work_on_assigned_items"
    ISSUE_REPORTS = "issue_reports"
    ADMINISTER_USERS = "administer_users"
    REVIEW_ACCESS_LOG = "review_access_log"

    @property
    def label(self) -> str:
        return _CAPABILITY_LABELS[self]


_CAPABILITY_LABELS = {
    Capability.VIEW_ALL_ITEMS: "모든 요구사항 열람",
    Capability.VIEW_REPORTS: "처리결과 총괄·부서별 현황 열람과 보고서 내려받기",
    Capability.MANAGE_ITEMS: "감사와 요구사항 등록·수정, 담당 부서와 처리 기한 지정",
    Capability.REVIEW_ITEMS: "조치결과 검토(승인, 보완 요청, 미반영, 재추진)",
    Capability.WORK_ON_ASSIGNED_ITEMS: "지정된 요구사항의 추진, 조치결과 작성, 증빙자료 등록, 제출",
    Capability.ISSUE_REPORTS: "처리결과 보고서 발행",
    Capability.ADMINISTER_USERS: "사용자 관리",
    Capability.REVIEW_ACCESS_LOG: "접속기록 점검과 무결성 검증 결과 열람",
}

ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    # Reads everything, acts on no item: administration is kept apart from the audit.
    Role.ADMIN: frozenset({
        Capability.VIEW_ALL_ITEMS,
        Capability.VIEW_REPORTS,
        Capability.ADMINISTER_USERS,
        Capability.REVIEW_ACCESS_LOG,
    }),
    Role.AUDIT: frozenset({
        Capability.VIEW_ALL_ITEMS,
        Capability.VIEW_REPORTS,
        Capability.MANAGE_ITEMS,
        Capability.REVIEW_ITEMS,
        Capability.ISSUE_REPORTS,
    }),
    # Sees and works on the items its team is assigned to, nothing else.
    Role.DEPARTMENT: frozenset({Capability.WORK_ON_ASSIGNED_ITEMS}),
    Role.LIAISON: frozenset({
        Capability.VIEW_ALL_ITEMS,
        Capability.VIEW_REPORTS,
        Capability.ISSUE_REPORTS,
    }),
}


class Actor(Protocol):
    """Anyone a rule is asked about: a signed-in ``User`` or the anonymous user."""

    @property
    def team_id(self) -> int | None: ...

    def can(self, capability: Capability) -> bool: ...


def capabilities(role: str | None) -> frozenset[Capability]:
    """The capabilities of ``role``; none for an unknown role or nobody."""
    try:
        return ROLE_CAPABILITIES[Role(role)] if role else frozenset()
    except ValueError:
        return frozenset()


def grants(role: str | None, capability: Capability) -> bool:
    return capability in capabilities(role)


def roles_with(capability: Capability) -> tuple[Role, ...]:
    """The roles that have ``capability``, in the roles' own order."""
    return tuple(role for role in Role if capability in ROLE_CAPABILITIES[role])


def role_names(capability: Capability) -> str:
    """"감사팀·의회 담당관": who may do it, for a refusal message."""
    return "·".join(role.label for role in roles_with(capability))


def needs_team(role: str | None) -> bool:
    """Whether a user of ``role`` must belong to a team: whoever works on a team's items."""
    return grants(role, Capability.WORK_ON_ASSIGNED_ITEMS)


# Whoever can change who may do what, or decide and sign off the audit's results, signs in
# with a second factor (when ``REQUIRE_SECOND_FACTOR`` is on): a stolen password alone must
# not reach the user list or the council's report.
SECOND_FACTOR_CAPABILITIES = frozenset({Capability.ADMINISTER_USERS, Capability.REVIEW_ITEMS})


def needs_second_factor(role: str | None) -> bool:
    """Whether a user of ``role`` must sign in with a one-time code as well as a password."""
    return bool(capabilities(role) & SECOND_FACTOR_CAPABILITIES)
