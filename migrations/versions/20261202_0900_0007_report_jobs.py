"""report jobs (발행 and large downloads made by the worker)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00

"""
from alembic import op
import sqlalchemy as sa

import auditflow.models.base  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

ACTIVE = "state IN ('queued', 'running')"


def upgrade():
    op.create_table('report_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('audit_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('include_due_changes', sa.Boolean(), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('formats', sa.String(length=60), nullable=False),
    sa.Column('formats_done', sa.Integer(), nullable=False),
    sa.Column('current_format', sa.String(length=10), nullable=True),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('missing', sa.String(length=60), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('issued_report_id', sa.Integer(), nullable=True),
    sa.Column('file_key', sa.String(length=64), nullable=True),
    sa.Column('file_name', sa.String(length=255), nullable=True),
    sa.Column('file_size', sa.Integer(), nullable=True),
    sa.Column('file_sha256', sa.String(length=64), nullable=True),
    sa.Column('created_at', auditflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', auditflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', auditflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', auditflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('issue', 'download')", name='ck_report_job_kind'),
    sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name='ck_report_job_state'),
    sa.CheckConstraint("kind = 'issue' OR format IS NOT NULL", name='ck_report_job_format'),
    sa.CheckConstraint("state <> 'done' OR kind <> 'issue' OR issued_report_id IS NOT NULL", name='ck_report_job_issued'),
    sa.CheckConstraint("state <> 'done' OR kind <> 'download' OR file_key IS NOT NULL", name='ck_report_job_file'),
    sa.CheckConstraint("state <> 'failed' OR error IS NOT NULL", name='ck_report_job_error'),
    sa.CheckConstraint(f"{ACTIVE} OR finished_at IS NOT NULL", name='ck_report_job_finished'),
    sa.CheckConstraint('done >= 0 AND total >= 0 AND formats_done >= 0 AND attempts >= 0', name='ck_report_job_counts'),
    sa.ForeignKeyConstraint(['audit_id'], ['audit.id'], ),
    sa.ForeignKeyConstraint(['issued_report_id'], ['issued_report.id'], ),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report_job', schema=None) as batch_op:
        batch_op.create_index('ix_report_job_audit', ['audit_id', 'id'], unique=False)
        batch_op.create_index('ix_report_job_state', ['state', 'heartbeat_at'], unique=False)
        batch_op.create_index('uq_report_job_issue_active', ['audit_id', 'as_of'], unique=True, sqlite_where=sa.text(f"kind = 'issue' AND {ACTIVE}"), postgresql_where=sa.text(f"kind = 'issue' AND {ACTIVE}"))
        batch_op.create_index('uq_report_job_download_active', ['audit_id', 'as_of', 'format', 'include_due_changes'], unique=True, sqlite_where=sa.text(f"kind = 'download' AND {ACTIVE}"), postgresql_where=sa.text(f"kind = 'download' AND {ACTIVE}"))


def downgrade():
    # Editions stay in issued_report, which this table only points at. The files of
    # finished downloads stay in the storage folder: copies of a report, safe to delete.
    with op.batch_alter_table('report_job', schema=None) as batch_op:
        batch_op.drop_index('uq_report_job_download_active', sqlite_where=sa.text(f"kind = 'download' AND {ACTIVE}"), postgresql_where=sa.text(f"kind = 'download' AND {ACTIVE}"))
        batch_op.drop_index('uq_report_job_issue_active', sqlite_where=sa.text(f"kind = 'issue' AND {ACTIVE}"), postgresql_where=sa.text(f"kind = 'issue' AND {ACTIVE}"))
        batch_op.drop_index('ix_report_job_state')
        batch_op.drop_index('ix_report_job_audit')

    op.drop_table('report_job')
