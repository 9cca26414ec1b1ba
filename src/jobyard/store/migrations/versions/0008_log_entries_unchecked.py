"""Log entries without a foreign key to their job, and with one index (the primary key).

Following a job writes about ten rows for each row anything else writes, and each paid for a
foreign key check (a lookup and a share lock on the job's row) and a second index: together
two thirds of the cost of a line's insert, measured. Lines are written only by statements that
write their job's row too, so the job is there by construction; deleting a job deletes its
lines by name (`fleet_delete`, `fleet_execution_delete`) instead of by cascade. Reads of one
execution's lines walk the job's lines in order on the primary key (`job_id`, `seq`).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jobyard.store.types import Id, UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _log_entries(*job_id_args: sa.ForeignKey) -> sa.Table:
    return sa.Table(
        "log_entries",
        sa.MetaData(),
        sa.Column("job_id", Id, *job_id_args, primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("execution_number", sa.Integer, nullable=False),
        sa.Column("ts", UtcDateTime, nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )


def upgrade() -> None:
    op.drop_index("ix_log_entries_execution", table_name="log_entries")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("log_entries_job_id_fkey", "log_entries", type_="foreignkey")
        return
    # SQLite cannot drop a constraint: the table is made again without it, rows copied.
    with op.batch_alter_table("log_entries", recreate="always", copy_from=_log_entries()):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_foreign_key(
            "log_entries_job_id_fkey", "log_entries", "jobs", ["job_id"], ["id"], ondelete="CASCADE"
        )
    else:
        foreign = sa.ForeignKey("jobs.id", ondelete="CASCADE")
        with op.batch_alter_table(
            "log_entries", recreate="always", copy_from=_log_entries(foreign)
        ):
            pass
    op.create_index(
        "ix_log_entries_execution", "log_entries", ["job_id", "execution_number", "seq"]
    )
