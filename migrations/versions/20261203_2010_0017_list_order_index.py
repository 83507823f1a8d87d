"""the lists' orders as indexes: newest audit first, then by number; open items by
registration; items of a state by due date (내 할 일)

Revision ID: 0017
Revises: 0013
Create Date: 2026-12-03 20:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    # The unique (audit_id, number) index reads audits newest first only with numbers
    # backwards too: ORDER BY audit_id DESC, number sorted every item of the newest audit
    # for each page (20,000 at 100,000 items). This one reads in the list's order.
    op.create_index('ix_recommendation_list_order', 'recommendation',
                    [sa.text('audit_id DESC'), 'number'], unique=False)
    # 미완료 현황 lists the open items oldest registration first: a page of it read in that
    # order, not every open item sorted.
    op.create_index('ix_recommendation_created_at', 'recommendation', ['created_at'],
                    unique=False)
    # 내 할 일 lists the items of a state (검토 중 for the audit team) soonest due first.
    op.create_index('ix_recommendation_state_due', 'recommendation',
                    ['state', 'due_date', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_recommendation_state_due', table_name='recommendation')
    op.drop_index('ix_recommendation_created_at', table_name='recommendation')
    op.drop_index('ix_recommendation_list_order', table_name='recommendation')
