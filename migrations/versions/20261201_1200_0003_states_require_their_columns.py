"""a recommendation past review carries its result; one at work has a lead team

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 12:00:00

"""
from contextlib import contextmanager

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


@contextmanager
def _table_rebuild():
    """SQLite rebuilds a table to change its constraints or drop a column: the rows that
    refer to it are not checked while the old table is briefly gone, and checked after."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    op.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        op.execute("PRAGMA foreign_keys = ON")
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"rows refer to missing rows after the rebuild: {broken[:5]}")


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
    with _table_rebuild(), op.batch_alter_table("recommendation") as batch_op:
        for name, condition in (RESULT_REQUIRED, LEAD_TEAM_REQUIRED):
            batch_op.create_check_constraint(name, condition)


def downgrade():
    with _table_rebuild(), op.batch_alter_table("recommendation") as batch_op:
        for name, _condition in (RESULT_REQUIRED, LEAD_TEAM_REQUIRED):
            batch_op.drop_constraint(name, type_="check")
