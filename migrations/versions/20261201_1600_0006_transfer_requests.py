"""transfer requests (이관 요청)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 16:00:00

"""
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa

import auditflow.models.base  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


HISTORY_BEFORE = ("'created', 'transition', 'assignment', 'due_date', 'result', 'text', "
                  "'evidence', 'extension'")
HISTORY_AFTER = HISTORY_BEFORE + ", 'transfer'"
NOTICES_BEFORE = ("'assigned', 'returned', 'approved', 'declined', 'reopened', 'commented', "
                  "'extension_decided', 'digest'")
NOTICES_AFTER = ("'assigned', 'returned', 'approved', 'declined', 'reopened', 'commented', "
                 "'extension_decided', 'transfer_decided', 'digest'")


@contextmanager
def _table_rebuild():
    """SQLite rebuilds a table to change its constraints: the rows that refer to it are
    not checked while the old table is briefly gone, and checked after."""
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


def _history_kinds(kinds):
    """History may hold these kinds. SQLite rebuilds the table, which takes its append-only
    triggers with it: they are made again (frozen copies of 0001's)."""
    with _table_rebuild(), op.batch_alter_table("history") as batch_op:
        batch_op.drop_constraint("ck_history_kind", type_="check")
        batch_op.create_check_constraint("ck_history_kind", f"kind IN ({kinds})")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS history_no_update")
        op.execute("DROP TRIGGER IF EXISTS history_no_delete")
        op.execute("CREATE TRIGGER history_no_update BEFORE UPDATE ON history "
                   "BEGIN SELECT RAISE(ABORT, 'history is append-only'); END")
        op.execute("CREATE TRIGGER history_no_delete BEFORE DELETE ON history "
                   "BEGIN SELECT RAISE(ABORT, 'history is append-only'); END")


def _notification_kinds(kinds):
    for table in ("notification", "notification_preference"):
        with _table_rebuild(), op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f"ck_{table}_kind", type_="check")
            batch_op.create_check_constraint(f"ck_{table}_kind", f"kind IN ({kinds})")


def upgrade():
    op.create_table('transfer_request',
    sa.Column('from_team_id', sa.Integer(), nullable=False),
    sa.Column('to_team_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_at', auditflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', auditflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("state = 'pending' OR decided_at IS NOT NULL", name='ck_transfer_request_decided'),
    sa.CheckConstraint("state IN ('pending', 'approved', 'declined', 'withdrawn')", name='ck_transfer_request_state'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['from_team_id'], ['org_unit.id'], ),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendation.id'], ),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['to_team_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('transfer_request', schema=None) as batch_op:
        batch_op.create_index('uq_transfer_request_pending', ['recommendation_id'], unique=True, sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))

    _history_kinds(HISTORY_AFTER)
    _notification_kinds(NOTICES_AFTER)


def downgrade():
    # History is append-only: its transfer rows cannot be taken out to go back.
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT count(*) FROM history WHERE kind = 'transfer'")).scalar()
    if rows:
        raise RuntimeError(f"history holds {rows} transfer rows, which a downgrade would lose")
    op.execute("DELETE FROM notification_preference WHERE kind = 'transfer_decided'")
    notices = bind.execute(
        sa.text("SELECT count(*) FROM notification WHERE kind = 'transfer_decided'")).scalar()
    if notices:
        raise RuntimeError(f"{notices} transfer notifications exist, which a downgrade would lose")
    _notification_kinds(NOTICES_BEFORE)
    with op.batch_alter_table('transfer_request', schema=None) as batch_op:
        batch_op.drop_index('uq_transfer_request_pending', sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))

    op.drop_table('transfer_request')
    _history_kinds(HISTORY_BEFORE)
