"""the items' texts found through an index: FTS5 trigram (SQLite), pg_trgm (PostgreSQL)

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-03 12:00:00

The statements are those of ``auditflow.models.text_index``, which gives
``create_all()`` the same objects; they are no model's tables or indexes, so
the comparison of models and migrations leaves them out (``include_name``).
"""
from alembic import op

from auditflow.models.text_index import CREATE, DROP

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    for statement in CREATE.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade():
    for statement in DROP.get(op.get_bind().dialect.name, []):
        op.execute(statement)
