"""one server-side session per sign-in (user_session) instead of one token per user

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import auditflow.models.base  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', auditflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', auditflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_agent', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=45), nullable=True),
    sa.Column('ended_at', auditflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=20), nullable=True),
    sa.CheckConstraint('(ended_at IS NULL) = (end_reason IS NULL)', name='ck_user_session_end_reason'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('secret_hash')
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index('ix_user_session_user_id', ['user_id'], unique=False)
    # Every cookie of the old per-user token stops working: everybody signs in again.
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('session_token')


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=False,
                                      server_default=''))
    # A fresh random token each (no cookie of the new kind names one).
    op.execute("UPDATE user_account SET session_token = 'x' || CAST(id AS VARCHAR(20)) || "
               "'-' || CAST(ABS(RANDOM()) AS VARCHAR(40))")
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('session_token', server_default=None)
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index('ix_user_session_user_id')
    op.drop_table('user_session')
