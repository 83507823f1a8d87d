"""a recommendation past review carries its result; one at work has a lead team

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 12:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Frozen copies of the model's constraints (auditflow/models/recommendation.py).
RESULT_REQUIRED = ("ck_recommendation_result_required",
                   "state NOT IN ('completed', 'not_reflected', 'reviewing') "
                   "OR trim(action_details) <> ''")
LEAD_TEAM_REQUIRED = ("ck_recommendation_lead_team_required",
                      "state = 'received' OR lead_team_id IS NOT NULL")


def upgrade():
    bind = op.get_bind()
    for name, condition in (RESULT_REQUIRED, LEAD_TEAM_REQUIRED):
        broken = bind.execute(sa.text(
            f"SELECT a.title, r.number FROM recommendation r JOIN audit a ON a.id = r.audit_id "
            f"WHERE NOT ({condition}) ORDER BY a.title, r.number")).all()
        if broken:
            items = ", ".join(f"{title} {number}번" for title, number in broken)
            raise RuntimeError(
                f"{name}: these recommendations must be corrected before upgrading "
                f"(result text or lead team missing): {items}")
    if bind.dialect.name == "sqlite":
        # SQLite rebuilds the table to add a constraint; the rows that refer to it are
        # checked at commit, against the rebuilt table.
        op.execute("PRAGMA defer_foreign_keys = ON")
    with op.batch_alter_table("recommendation") as batch_op:
        for name, condition in (RESULT_REQUIRED, LEAD_TEAM_REQUIRED):
            batch_op.create_check_constraint(name, condition)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA defer_foreign_keys = ON")
    with op.batch_alter_table("recommendation") as batch_op:
        for name, _condition in (RESULT_REQUIRED, LEAD_TEAM_REQUIRED):
            batch_op.drop_constraint(name, type_="check")
