"""Executions without a foreign key to their job; on PostgreSQL, an idempotency index that holds
only the jobs that have a key.

Creating a job inserts its first execution in the same statement, and the foreign key checked
each one: a lookup of the job just inserted and a share lock on its row, which writes the row's
header again and logs it (a tenth of what PostgreSQL spends on a job's create, claim and end,
measured). Executions are written only in transactions that have written or locked their
job's row, so the job is there by construction; deleting a job deletes its executions by name
(`fleet_delete`, `fleet_execution_delete`) instead of by cascade, as log lines are (0008).

Every write of a job's status writes a new entry in each of its indexes (0009), and the
idempotency index held every job, those made without a key too (the SDK gives each job it
creates a key; a request of its own, a face or a fleet may not): on PostgreSQL it now holds
only those with one (`ix_jobs_idempotency`, a unique index in place of the constraint; the
rule is the same, since no two nulls collide). SQLite writes an index only when its columns
change, so there it costs only the insert, and it stays a constraint: SQLite cannot drop one
without making the table again, and other tables' keys cascade from jobs.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jobyard.store.types import Id, Json, UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

KEYED = "idempotency_key IS NOT NULL"
QUEUED = "status = 'queued'"
RUNNING = "status = 'in_progress'"


def _on_postgres() -> bool:
    return bool(op.get_context().dialect.name == "postgresql")


def _executions(*job_id_args: sa.ForeignKey) -> sa.Table:
    """The executions table as 0011 left it, with `job_id_args` on its job's id."""
    return sa.Table(
        "executions",
        sa.MetaData(),
        sa.Column("job_id", Id, *job_id_args, primary_key=True),
        sa.Column("execution_number", sa.Integer, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("queue", sa.String(200), nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("target", sa.String(200), nullable=True),
        sa.Column("status_details", Json, nullable=False),
        sa.Column("queued_at", UtcDateTime, nullable=False),
        sa.Column("available_at", UtcDateTime, nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=True),
        sa.Column("last_updated_at", UtcDateTime, nullable=False),
        sa.Column("completed_at", UtcDateTime, nullable=True),
        sa.Column("lease_s", sa.Integer, nullable=True),
        sa.Column("lease_expires_at", UtcDateTime, nullable=True),
        sa.Column("timeout_at", UtcDateTime, nullable=True),
        sa.Column("worker_id", sa.String(200), nullable=True),
        sa.Column("hostname", sa.String(255), nullable=True),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("exit_code", sa.Integer, nullable=True),
        sa.Column("log_lines", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("holder", sa.String(64), nullable=True),
        sa.Index(
            "ix_executions_claim",
            "tenant_id",
            "queue",
            sa.desc("priority"),
            "available_at",
            "job_id",
            sqlite_where=sa.text(QUEUED),
        ),
        sa.Index("ix_executions_lease", "lease_expires_at", sqlite_where=sa.text(RUNNING)),
        sa.Index(
            "ix_executions_timeout",
            "timeout_at",
            sqlite_where=sa.text(f"{RUNNING} AND timeout_at IS NOT NULL"),
        ),
    )


def upgrade() -> None:
    if _on_postgres():
        op.drop_constraint("executions_job_id_fkey", "executions", type_="foreignkey")
        op.drop_constraint("uq_jobs_idempotency", "jobs", type_="unique")
        op.create_index(
            "ix_jobs_idempotency",
            "jobs",
            ["tenant_id", "idempotency_key"],
            unique=True,
            postgresql_where=sa.text(KEYED),
        )
        return
    # SQLite cannot drop a constraint: the table is made again without it, rows copied.
    with op.batch_alter_table("executions", recreate="always", copy_from=_executions()):
        pass


def downgrade() -> None:
    if _on_postgres():
        op.drop_index("ix_jobs_idempotency", table_name="jobs")
        op.create_unique_constraint("uq_jobs_idempotency", "jobs", ["tenant_id", "idempotency_key"])
        op.create_foreign_key(
            "executions_job_id_fkey", "executions", "jobs", ["job_id"], ["id"], ondelete="CASCADE"
        )
        return
    foreign = sa.ForeignKey("jobs.id", ondelete="CASCADE")
    with op.batch_alter_table("executions", recreate="always", copy_from=_executions(foreign)):
        pass
