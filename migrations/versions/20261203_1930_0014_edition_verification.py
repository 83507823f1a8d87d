"""verification of issued editions (검증): the edition's choice, verify jobs

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-03 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0011'
branch_labels = None
depends_on = None

ACTIVE = "state IN ('queued', 'running')"
KINDS_BEFORE = "kind IN ('issue', 'download')"
KINDS_AFTER = "kind IN ('issue', 'download', 'verify')"
FORMAT_BEFORE = "kind = 'issue' OR format IS NOT NULL"
FORMAT_AFTER = "kind <> 'download' OR format IS NOT NULL"
VERIFIED = "kind <> 'verify' OR issued_report_id IS NOT NULL"

# The partial unique indexes of report_job, dropped around SQLite's table copy and made
# again after it, so that their WHERE clauses are written as declared.
PARTIAL = (
    ('uq_report_job_issue_active', ['audit_id', 'as_of'], 'issue'),
    ('uq_report_job_download_active', ['audit_id', 'as_of', 'format', 'include_due_changes'],
     'download'),
)


def _where(kind):
    return sa.text(f"kind = '{kind}' AND {ACTIVE}")


def _drop_partial():
    for name, _columns, kind in PARTIAL:
        op.drop_index(name, table_name='report_job', sqlite_where=_where(kind),
                      postgresql_where=_where(kind))


def _create_partial():
    for name, columns, kind in PARTIAL:
        op.create_index(name, 'report_job', columns, unique=True, sqlite_where=_where(kind),
                        postgresql_where=_where(kind))


MESSAGE = "issued reports are never changed"
# An edition made by a job with the section off says so; every other was made with it on.
BACKFILL = ("UPDATE issued_report SET include_due_changes = false WHERE id IN "
            "(SELECT issued_report_id FROM report_job WHERE kind = 'issue' "
            "AND issued_report_id IS NOT NULL AND include_due_changes = false)")


def _backfill():
    """Fill the new column from the jobs that made the editions: the one update of
    issued_report ever, with its append-only trigger set aside for it (0002's copy)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER issued_report_no_update")
        op.execute(BACKFILL)
        op.execute("CREATE TRIGGER issued_report_no_update BEFORE UPDATE ON issued_report "
                   f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")
    else:
        op.execute("ALTER TABLE issued_report DISABLE TRIGGER issued_report_no_update")
        op.execute(BACKFILL)
        op.execute("ALTER TABLE issued_report ENABLE TRIGGER issued_report_no_update")


def upgrade():
    op.add_column('issued_report', sa.Column('include_due_changes', sa.Boolean(),
                                             server_default=sa.true(), nullable=False))
    _backfill()
    _drop_partial()
    with op.batch_alter_table('report_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verification', sa.Text(), nullable=True))
        batch_op.drop_constraint('ck_report_job_kind', type_='check')
        batch_op.create_check_constraint('ck_report_job_kind', sa.text(KINDS_AFTER))
        batch_op.drop_constraint('ck_report_job_format', type_='check')
        batch_op.create_check_constraint('ck_report_job_format', sa.text(FORMAT_AFTER))
        batch_op.create_check_constraint('ck_report_job_verified', sa.text(VERIFIED))
    _create_partial()
    op.create_index('uq_report_job_verify_active', 'report_job', ['issued_report_id'],
                    unique=True, sqlite_where=_where('verify'),
                    postgresql_where=_where('verify'))


def downgrade():
    op.drop_index('uq_report_job_verify_active', table_name='report_job',
                  sqlite_where=_where('verify'), postgresql_where=_where('verify'))
    op.execute("DELETE FROM report_job WHERE kind = 'verify'")
    _drop_partial()
    with op.batch_alter_table('report_job', schema=None) as batch_op:
        batch_op.drop_constraint('ck_report_job_verified', type_='check')
        batch_op.drop_constraint('ck_report_job_format', type_='check')
        batch_op.create_check_constraint('ck_report_job_format', sa.text(FORMAT_BEFORE))
        batch_op.drop_constraint('ck_report_job_kind', type_='check')
        batch_op.create_check_constraint('ck_report_job_kind', sa.text(KINDS_BEFORE))
        batch_op.drop_column('verification')
    _create_partial()
    # Not a batch copy: that would lose issued_report's append-only triggers (SQLite drops
    # the column in place since 3.35).
    op.drop_column('issued_report', 'include_due_changes')
