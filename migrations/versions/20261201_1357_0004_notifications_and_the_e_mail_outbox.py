"""notifications and the e-mail outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 13:57:53.062106

"""
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa

import auditflow.models.base  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


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
    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('recommendation_id', sa.Integer(), nullable=True),
    sa.Column('digest_day', sa.Date(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', auditflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', auditflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('assigned', 'returned', 'approved', 'declined', 'reopened', 'commented', 'extension_decided', 'digest')", name='ck_notification_kind'),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendation.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'digest_day', name='uq_notification_digest_day')
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_user_read', ['user_id', 'read_at', 'id'], unique=False)

    op.create_table('notification_preference',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('email', sa.Boolean(), nullable=False),
    sa.CheckConstraint("kind IN ('assigned', 'returned', 'approved', 'declined', 'reopened', 'commented', 'extension_decided', 'digest')", name='ck_notification_preference_kind'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('user_id', 'kind')
    )
    op.create_table('email_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedup_key', sa.String(length=120), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', auditflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', auditflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', auditflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', auditflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name='ck_email_message_status'),
    sa.ForeignKeyConstraint(['notification_id'], ['notification.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedup_key')
    )
    with op.batch_alter_table('email_message', schema=None) as batch_op:
        batch_op.create_index('ix_email_message_status', ['status', 'next_attempt_at'], unique=False)

    op.create_table('email_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('at', auditflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['email_message.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('email_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_email_attempt_message', ['message_id', 'id'], unique=False)

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('is_manager', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))



def downgrade():
    with _table_rebuild(), op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('is_manager')
        batch_op.drop_column('email')

    with op.batch_alter_table('email_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_email_attempt_message')

    op.drop_table('email_attempt')
    with op.batch_alter_table('email_message', schema=None) as batch_op:
        batch_op.drop_index('ix_email_message_status')

    op.drop_table('email_message')
    op.drop_table('notification_preference')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_read')

    op.drop_table('notification')
