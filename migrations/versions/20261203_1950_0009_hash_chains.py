"""hash chains over history, issued editions and issued files; verification runs

Revision ID: 0009
Revises: 0016
Create Date: 2026-12-03 10:00:00

Every existing row is given its place, the hash of the row before and its own hash, in id
order (the order they were written), with the same encoding the application uses
(``auditflow.models.chain.link``). The append-only triggers refuse that UPDATE, so they are
set aside for it, as the tables' owner, and put back.
"""
from alembic import op
import sqlalchemy as sa

import auditflow.models.base  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0016'
branch_labels = None
depends_on = None

TABLES = ("history", "issued_report", "issued_report_file")
MESSAGES = {"history": "history is append-only",
            "issued_report": "issued reports are never changed",
            "issued_report_file": "issued reports are never changed"}
GENESIS = "0" * 64


def upgrade():
    op.create_table('chain_head',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.Column('head', sa.String(length=64), nullable=False),
    sa.Column('start_seq', sa.Integer(), nullable=False),
    sa.Column('start_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('integrity_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', auditflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('counts', sa.Text(), nullable=False),
    sa.Column('heads', sa.Text(), nullable=False),
    sa.Column('problem', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    # Plain ADD COLUMN and CREATE INDEX (no table rebuild on SQLite, which would lose the
    # tables' triggers).
    for table in TABLES:
        op.add_column(table, sa.Column('chain_seq', sa.Integer(), nullable=True))
        op.add_column(table, sa.Column('chain_prev', sa.String(length=64), nullable=True))
        op.add_column(table, sa.Column('chain_hash', sa.String(length=64), nullable=True))
        op.create_index(f'uq_{table}_chain_seq', table, ['chain_seq'], unique=True)
    for table in TABLES:
        _backfill(table)


def _backfill(name):
    from auditflow.extensions import db
    from auditflow.models.chain import link

    bind = op.get_bind()
    table = db.metadata.tables[name]  # the model's columns and types, as the verifier reads them
    rows = bind.execute(sa.select(table).order_by(table.c.id)).mappings().all()
    prev = GENESIS
    _triggers_off(bind.dialect.name, name)
    for seq, row in enumerate(rows, start=1):
        own = link(prev, seq, dict(row))
        bind.execute(table.update().where(table.c.id == row["id"])
                     .values(chain_seq=seq, chain_prev=prev, chain_hash=own))
        prev = own
    _triggers_on(bind.dialect.name, name)
    bind.execute(sa.text("INSERT INTO chain_head (name, length, head, start_seq, start_hash) "
                         "VALUES (:name, :length, :head, 0, :genesis)"),
                 {"name": name, "length": len(rows), "head": prev, "genesis": GENESIS})


def _triggers_off(dialect, table):
    if dialect == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    elif dialect == "postgresql":
        op.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_no_update")


def _triggers_on(dialect, table):
    message = MESSAGES[table]
    if dialect == "sqlite":
        op.execute(f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                   f"BEGIN SELECT RAISE(ABORT, '{message}'); END")
        op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                   f"BEGIN SELECT RAISE(ABORT, '{message}'); END")
    elif dialect == "postgresql":
        op.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_no_update")


def downgrade():
    for table in reversed(TABLES):
        op.drop_index(f'uq_{table}_chain_seq', table_name=table)
        op.drop_column(table, 'chain_hash')
        op.drop_column(table, 'chain_prev')
        op.drop_column(table, 'chain_seq')
    op.drop_table('integrity_check')
    op.drop_table('chain_head')
