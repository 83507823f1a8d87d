"""The permission model: one table of capabilities, item rules on the model, no role compared elsewhere."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from auditflow.extensions import db
from auditflow.models import Recommendation
from auditflow.permissions import ROLE_CAPABILITIES, Capability, grants, needs_team, roles_with
from auditflow.vocabulary import Role

PACKAGE = Path(__file__).resolve().parent.parent / "auditflow"
TEMPLATES = PACKAGE.parent / "templates"
# The permission model and the user model are where roles are spoken of.
ALLOWED = {PACKAGE / "permissions.py", PACKAGE / "models" / "user.py"}
ROLE_VALUES = {role.value for role in Role}


def _is_role_constant(node: ast.AST) -> bool:
    """A role written into the code: ``"audit"``, ``("admin", "liaison")``, ``Role.AUDIT(.value)``."""
    if isinstance(node, ast.Constant) and node.value in ROLE_VALUES:
        return True
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_is_role_constant(element) for element in node.elts)
    if isinstance(node, ast.Attribute) and node.attr == "value":
        node = node.value
    return (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == "Role")


def _is_role(node: ast.AST) -> bool:
    """Somebody's role: ``user.role``, ``role``, ``getattr(user, "role", None)``."""
    if isinstance(node, ast.Name):
        return "role" in node.id
    if isinstance(node, ast.Attribute):
        return "role" in node.attr
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "getattr" and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant) and node.args[1].value == "role")


def role_comparisons(source: str) -> list[int]:
    """Lines where somebody's role is compared with a role written into the code (==, !=,
    in, is), or filtered on one in SQL (``.in_``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_is_role(o) for o in operands) and any(_is_role_constant(o) for o in operands):
                found.append(node.lineno)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "in_" and _is_role(node.func.value)
              and any(_is_role_constant(arg) for arg in node.args)):
            found.append(node.lineno)
    return found


TEMPLATE_ROLE = re.compile(
    r"role\s*(==|!=|\bin\b|\bnot\s+in\b|\bis\b)|"
    r"['\"](admin|audit|department|liaison)['\"]\s*(==|!=|\bin\b)"
)


def test_the_checker_finds_role_comparisons():
    assert role_comparisons('if user.role == "audit":\n    pass') == [1]
    assert role_comparisons("x = 1\nok = role in ('admin', 'liaison')") == [2]
    assert role_comparisons("q.where(User.role == Role.ADMIN.value)") == [1]
    assert role_comparisons("q.where(User.role.in_(['admin']))") == [1]
    assert role_comparisons("if getattr(u, 'role', None) != 'department': pass") == [1]
    assert role_comparisons("if user.can(Capability.MANAGE_ITEMS): pass") == []
    assert role_comparisons("keep = key == 'audit'") == []  # a word, not somebody's role
    assert TEMPLATE_ROLE.search("{% if current_user.role == 'audit' %}")
    assert TEMPLATE_ROLE.search("{% if role != 'department' %}")
    assert not TEMPLATE_ROLE.search("{{ current_user.role | role_label }}")


def test_no_role_is_compared_outside_the_permission_model():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path in ALLOWED:
            continue
        for line in role_comparisons(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line}")
    assert offenders == [], "ask user.can(Capability...) or an item rule instead"


def test_no_template_compares_a_role():
    offenders = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if TEMPLATE_ROLE.search(line):
                offenders.append(f"{path.relative_to(TEMPLATES.parent)}:{number}: {line.strip()}")
    assert offenders == [], "templates ask current_user.can(Capability...) or get a boolean"


def test_every_role_has_its_row_and_every_capability_someone():
    assert set(ROLE_CAPABILITIES) == set(Role)
    for capability in Capability:
        assert roles_with(capability), capability
        assert capability.label  # a Korean description for screens and messages


def test_the_table_is_what_the_audit_office_asked_for():
    assert roles_with(Capability.MANAGE_ITEMS) == (Role.AUDIT,)
    assert roles_with(Capability.REVIEW_ITEMS) == (Role.AUDIT,)
    assert roles_with(Capability.WORK_ON_ASSIGNED_ITEMS) == (Role.DEPARTMENT,)
    assert roles_with(Capability.ISSUE_REPORTS) == (Role.AUDIT, Role.LIAISON)
    assert roles_with(Capability.ADMINISTER_USERS) == (Role.ADMIN,)
    assert set(roles_with(Capability.VIEW_ALL_ITEMS)) == {Role.ADMIN, Role.AUDIT, Role.LIAISON}
    assert needs_team(Role.DEPARTMENT) and not needs_team(Role.AUDIT)
    assert not grants("nobody", Capability.VIEW_ALL_ITEMS) and not grants(None, Capability.VIEW_ALL_ITEMS)


def test_an_inactive_user_can_do_nothing(make):
    auditor = make.user("audit", active=False)
    assert not any(auditor.can(capability) for capability in Capability)


@pytest.fixture
def items_and_people(make):
    mine, supported, other = make.team(), make.team(), make.team()
    items = [
        make.recommendation(lead=mine),
        make.recommendation(lead=other, supporting=[mine]),
        make.recommendation(lead=other),
        make.recommendation(lead=supported, supporting=[other], state="in_progress"),
    ]
    people = [
        make.user("audit"), make.user("liaison"), make.user("admin"),
        make.user("department", team=mine), make.user("department", team=other),
        make.user("department", team=mine, active=False),
    ]
    db.session.commit()
    return items, people


def test_the_sql_rule_is_the_item_rule(items_and_people):
    items, people = items_and_people
    for person in people:
        in_sql = set(db.session.scalars(
            select(Recommendation.id).where(Recommendation.visible_to(person))))
        by_rule = {item.id for item in items if item.can_view(person)}
        assert in_sql == by_rule, person


def test_one_assignment_test_for_every_item_rule(items_and_people):
    items, people = items_and_people
    department = people[3]
    led, supporting, foreign, _ = items
    for item in (led, supporting):
        assert item.is_assigned(department) and item.works_on(department)
        assert item.can_view(department) and item.can_comment(department)
    assert not foreign.is_assigned(department)
    assert not (foreign.can_view(department) or foreign.can_comment(department)
                or foreign.can_change_evidence(department))
    inactive = people[5]
    assert led.is_assigned(inactive) and not led.works_on(inactive) and not led.can_view(inactive)
    assert {item.id for item in db.session.scalars(
        select(Recommendation).where(Recommendation.assigned_to_team(department.team_id)))} == {
        led.id, supporting.id}
