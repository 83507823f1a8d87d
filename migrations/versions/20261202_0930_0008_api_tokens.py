"""personal access tokens of the JSON API

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 17:00:00

"""
from alembic import op
import sqlalchemy as sa

import auditflow.models.base  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('created_at', auditflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', auditflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', auditflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', auditflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("scope IN ('read', 'write')", name='ck_api_token_scope'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('secret_hash')
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index('ix_api_token_user_id', ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index('ix_api_token_user_id')
    op.drop_table('api_token')
