"""Following a job: log entries, record errors, URL signing keys, and the job's log counter.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jobyard.store.types import Id, Json, UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("log_seq", sa.BigInteger, nullable=False, server_default="0"))
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("log_lines", sa.BigInteger, nullable=False, server_default="0"))
    op.create_table(
        "log_entries",
        sa.Column("job_id", Id, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("execution_number", sa.Integer, nullable=False),
        sa.Column("ts", UtcDateTime, nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_log_entries_execution", "log_entries", ["job_id", "execution_number", "seq"]
    )
    op.create_table(
        "record_errors",
        sa.Column("id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("job_id", Id, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("execution_number", sa.Integer, nullable=False),
        sa.Column("code", sa.String(200), nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("source", sa.String(200), nullable=True),
        sa.Column("data", Json, nullable=True),
        sa.Column("retriable", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("resolved_at", UtcDateTime, nullable=True),
    )
    op.create_index("ix_record_errors_job", "record_errors", ["job_id", "id"])
    op.create_table(
        "signing_keys",
        sa.Column("id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("retired_at", UtcDateTime, nullable=True),
    )
    op.create_index("ix_signing_keys_tenant", "signing_keys", ["tenant_id", "created_at"])


def downgrade() -> None:
    op.drop_table("signing_keys")
    op.drop_table("record_errors")
    op.drop_table("log_entries")
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("log_lines")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("log_seq")
