"""sign-in counts per login and address (login_throttle); the account's own counter goes

Revision ID: 0010
Revises: 0012
Create Date: 2026-12-03 19:00:00

"""
from alembic import op
import sqlalchemy as sa

import auditflow.models.base  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_throttle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', auditflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('signed_in_at', auditflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', auditflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('login', 'remote_addr', name='uq_login_throttle_login_remote_addr')
    )
    # The counts move to login_throttle (per address and for every address). The columns
    # are in no index or constraint, so SQLite (3.35+) drops them without a table rebuild.
    for column in ('failed_logins', 'locked_until'):
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f'ALTER TABLE user_account DROP COLUMN {column}')
        else:
            op.drop_column('user_account', column)


def downgrade():
    op.add_column('user_account', sa.Column('locked_until',
                  auditflow.models.base.UTCDateTime(timezone=True), nullable=True))
    op.add_column('user_account', sa.Column('failed_logins', sa.Integer(), nullable=False,
                                            server_default='0'))
    op.drop_table('login_throttle')
