"""The first schema: tenants, API keys, jobs and executions, each scoped by tenant_id.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jobyard.store.types import Id, Json, UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

QUEUED = sa.text("status = 'queued'")
IN_PROGRESS = sa.text("status = 'in_progress'")
TIMEOUT = sa.text("status = 'in_progress' AND timeout_at IS NOT NULL")
SCHEDULED = sa.text("status = 'scheduled'")


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("name", name="uq_tenants_name"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", Id, primary_key=True),
        sa.Column("tenant_id", Id, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("prefix", sa.String(40), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("is_system", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("queues", Json, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=True),
        sa.Column("revoked_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
    )
    op.create_index("ix_api_keys_tenant", "api_keys", ["tenant_id", "created_at"])

    counters = [
        sa.Column(name, sa.BigInteger, nullable=False, server_default="0")
        for name in ("num_success", "num_error", "num_ignore", "num_export", "num_pages")
    ]
    op.create_table(
        "jobs",
        sa.Column("id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("queue", sa.String(200), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("params", Json, nullable=False),
        sa.Column("document", Json, nullable=True),
        sa.Column("labels", Json, nullable=False),
        sa.Column("parent_id", Id, nullable=True),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("scheduled_at", UtcDateTime, nullable=True),
        sa.Column("started_at", UtcDateTime, nullable=True),
        sa.Column("completed_at", UtcDateTime, nullable=True),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("backoff_base_s", sa.Float, nullable=False),
        sa.Column("backoff_max_s", sa.Float, nullable=False),
        sa.Column("timeout_s", sa.Integer, nullable=True),
        sa.Column("lease_s", sa.Integer, nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("request_hash", sa.String(64), nullable=True),
        sa.Column("targets", Json, nullable=False),
        *counters,
        sa.Column("progress", Json, nullable=True),
        sa.Column("steps", Json, nullable=False),
        sa.Column("result", Json, nullable=True),
        sa.Column("error", Json, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("kill_requested_at", UtcDateTime, nullable=True),
        sa.Column("kill_requested_by", sa.String(64), nullable=True),
        sa.Column("kill_force", sa.Boolean, nullable=True),
        sa.Column("kill_reason", sa.String(1000), nullable=True),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_jobs_idempotency"),
    )
    index_columns: tuple[tuple[str, list[str | sa.TextClause]], ...] = (
        ("ix_jobs_tenant_id", ["tenant_id", sa.text("id DESC")]),
        ("ix_jobs_tenant_status", ["tenant_id", "status", sa.text("id DESC")]),
        ("ix_jobs_tenant_type", ["tenant_id", "type", sa.text("id DESC")]),
        ("ix_jobs_tenant_queue", ["tenant_id", "queue", sa.text("id DESC")]),
        ("ix_jobs_tenant_parent", ["tenant_id", "parent_id", sa.text("id DESC")]),
    )
    for name, cols in index_columns:
        op.create_index(name, "jobs", cols)
    op.create_index(
        "ix_jobs_scheduled", "jobs", ["scheduled_at"],
        postgresql_where=SCHEDULED, sqlite_where=SCHEDULED,
    )  # fmt: skip
    if op.get_context().dialect.name == "postgresql":
        op.create_index("ix_jobs_labels", "jobs", ["labels"], postgresql_using="gin")

    op.create_table(
        "executions",
        sa.Column("job_id", Id, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
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
    )
    op.create_index(
        "ix_executions_claim", "executions",
        ["tenant_id", "queue", sa.text("priority DESC"), "available_at", "job_id"],
        postgresql_where=QUEUED, sqlite_where=QUEUED,
    )  # fmt: skip
    op.create_index(
        "ix_executions_lease", "executions", ["lease_expires_at"],
        postgresql_where=IN_PROGRESS, sqlite_where=IN_PROGRESS,
    )  # fmt: skip
    op.create_index(
        "ix_executions_timeout", "executions", ["timeout_at"],
        postgresql_where=TIMEOUT, sqlite_where=TIMEOUT,
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("executions")
    op.drop_table("jobs")
    op.drop_table("api_keys")
    op.drop_table("tenants")
