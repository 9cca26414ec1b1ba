"""The tables, as SQLAlchemy Core metadata.

Every table carries `tenant_id`; the migrations mirror this file.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from jobyard.store.types import Id, Json, UtcDateTime

metadata = sa.MetaData()

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),  # equal to id: every table is tenant-scoped
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("name", name="uq_tenants_name"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
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
    # "api" (a bearer key) or "aws-sigv4" (an access key id and a secret for signed requests)
    sa.Column("type", sa.String(16), nullable=False, server_default="api"),
    # whom the key speaks for: jobs are owned by a subject, so a rotated key keeps its jobs
    sa.Column("subject", sa.String(64), nullable=True),
    sa.Column("things", Json, nullable=True),  # device names a worker key may act for
    sa.Column("secret_enc", sa.Text, nullable=True),  # aws-sigv4: the secret, encrypted
    sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
    sa.Index("ix_api_keys_tenant", "tenant_id", "created_at"),
)


# The jobs the labels index holds: those that have some (a label filter says it too).
HAS_LABELS = "labels <> '{}'::jsonb"


# A job's stage: its status, but one for every status it moves among while it is worked on
# (claimed, handed back for a retry, asked to stop). The job row's indexes hold its stage, never
# its status: PostgreSQL writes an update in place ("heap-only", with no new index entries) only
# when no indexed column changes, so a claim then leaves every index of the row as it was; and
# the row's pages are kept half empty (`fillfactor`), so that there is room for it in place.
# Filters by status name the stage too (`status_in`), and read the status from the rows found.
ACTIVE = "active"
ACTIVE_STATUSES = ("queued", "in_progress", "canceling")
STAGE = f"CASE WHEN status IN {tuple(ACTIVE_STATUSES)!r} THEN '{ACTIVE}' ELSE status END"
FILLFACTOR = 50


def stage_of(status: str) -> str:
    """The stage of a job in `status` (as `STAGE` has it)."""
    return ACTIVE if status in ACTIVE_STATUSES else status


def kill_pending(table: str = "") -> str:
    """SQL for the jobs `ix_jobs_kill_pending` holds: those with a kill order, in the active
    stage (`pending_kill` tells which of them have one still to carry out)."""
    p = f"{table}." if table else ""
    return f"{p}kill_requested_at IS NOT NULL AND {p}stage = '{ACTIVE}'"


def pending_kill(table: str = "") -> str:
    """SQL for a job with a kill order still to carry out (one with a running execution is
    in_progress, or canceling once a kill order is registered), on `table`'s columns. It holds
    the index's condition (`kill_pending`) as written, so that SQLite, too, sees the one imply
    the other."""
    p = f"{table}." if table else ""
    return f"{kill_pending(table)} AND {p}status IN ('in_progress', 'canceling')"


jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("type", sa.String(200), nullable=False),
    sa.Column("queue", sa.String(200), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("stage", sa.String(16), sa.Computed(STAGE, persisted=True)),
    sa.Column("params", Json, nullable=False),
    sa.Column("document", Json, nullable=True),
    sa.Column("labels", Json, nullable=False),
    sa.Column("parent_id", Id, nullable=True),
    sa.Column("owner", sa.String(64), nullable=True),
    sa.Column("collaborators", Json, nullable=False, server_default="[]"),
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
    sa.Column("num_success", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("num_error", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("num_ignore", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("num_export", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("num_pages", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("progress", Json, nullable=True),
    sa.Column("steps", Json, nullable=False),
    sa.Column("result", Json, nullable=True),
    sa.Column("error", Json, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("log_seq", sa.BigInteger, nullable=False, server_default="0"),  # last log seq given
    sa.Column("kill_requested_at", UtcDateTime, nullable=True),
    sa.Column("kill_requested_by", sa.String(64), nullable=True),
    sa.Column("kill_force", sa.Boolean, nullable=True),
    sa.Column("kill_reason", sa.String(1000), nullable=True),
    # The idempotency rule is `job_keys`'s (migration 0013). SQLite's jobs keep the constraint
    # they were made with: dropping it there means making the table again.
    sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_jobs_idempotency").ddl_if(
        dialect="sqlite"
    ),
    sa.Index("ix_jobs_tenant_id", "tenant_id", sa.desc("id")),
    sa.Index("ix_jobs_tenant_stage", "tenant_id", "stage", sa.desc("id")),
    sa.Index("ix_jobs_tenant_type", "tenant_id", "type", sa.desc("id")),
    sa.Index("ix_jobs_tenant_queue", "tenant_id", "queue", sa.desc("id")),
    # Only jobs that have a parent, or labels, in these two (migration 0009 tells why).
    sa.Index(
        "ix_jobs_tenant_parent",
        "tenant_id",
        "parent_id",
        sa.desc("id"),
        postgresql_where=sa.text("parent_id IS NOT NULL"),
        sqlite_where=sa.text("parent_id IS NOT NULL"),
    ),
    sa.Index(
        "ix_jobs_scheduled",
        "scheduled_at",
        postgresql_where=sa.text("stage = 'scheduled'"),
        sqlite_where=sa.text("stage = 'scheduled'"),
    ),
    sa.Index(
        "ix_jobs_labels",
        "labels",
        postgresql_using="gin",
        postgresql_where=sa.text(HAS_LABELS),
    ).ddl_if(dialect="postgresql"),
    # Jobs with kill orders still to carry out (`execution_kill_orders`).
    sa.Index(
        "ix_jobs_kill_pending",
        "tenant_id",
        postgresql_where=sa.text(kill_pending()),
        sqlite_where=sa.text(kill_pending()),
    ),
    postgresql_with={"fillfactor": FILLFACTOR},
)


def status_in(statuses: Iterable[str]) -> sa.ColumnElement[bool]:
    """Jobs in one of `statuses`, said of their stage too: the job row's indexes hold that."""
    wanted = sorted(set(statuses))
    stages = sorted({stage_of(s) for s in wanted})
    return sa.and_(jobs.c.stage.in_(stages), jobs.c.status.in_(wanted))


executions = sa.Table(
    "executions",
    metadata,
    # No foreign key (migration 0012): written only with its job's row, deleted by name with it.
    sa.Column("job_id", Id, primary_key=True),
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
    sa.Column("holder", sa.String(64), nullable=True),  # the subject of the key that claimed it
    sa.Column("hostname", sa.String(255), nullable=True),
    sa.Column("pid", sa.Integer, nullable=True),
    sa.Column("exit_code", sa.Integer, nullable=True),
    sa.Column("log_lines", sa.BigInteger, nullable=False, server_default="0"),  # ever appended
    sa.Index(
        "ix_executions_claim",
        "tenant_id",
        "queue",
        sa.desc("priority"),
        "available_at",
        "job_id",
        postgresql_where=sa.text("status = 'queued'"),
        sqlite_where=sa.text("status = 'queued'"),
    ),
    sa.Index(
        "ix_executions_lease",
        "lease_expires_at",
        postgresql_where=sa.text("status = 'in_progress'"),
        sqlite_where=sa.text("status = 'in_progress'"),
    ),
    sa.Index(
        "ix_executions_timeout",
        "timeout_at",
        postgresql_where=sa.text("status = 'in_progress' AND timeout_at IS NOT NULL"),
        sqlite_where=sa.text("status = 'in_progress' AND timeout_at IS NOT NULL"),
    ),
)

# Follow-a-job tables (migration 0002) -------------------------------------------------------------

log_chunks = sa.Table(
    "log_chunks",
    metadata,
    # The lines of one write, `first_seq` to `last_seq`, as JSON text (store/log_chunks.py tells
    # the shape). No foreign key, and no index but the primary key: written as often as jobs
    # are, always by statements that write the job's row too (migrations 0008 and 0010 tell why).
    sa.Column("job_id", Id, primary_key=True),
    sa.Column("first_seq", sa.BigInteger, primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("execution_number", sa.Integer, nullable=False),
    sa.Column("ts", UtcDateTime, nullable=False),
    sa.Column("lines", sa.Text, nullable=False),
)

# A job's idempotency key, written once when the job is made (migration 0013 tells why apart
# from the job row); the key's job is deleted with it, by name.
job_keys = sa.Table(
    "job_keys",
    metadata,
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("idempotency_key", sa.String(255), primary_key=True),
    sa.Column("job_id", Id, nullable=False),
)

record_errors = sa.Table(
    "record_errors",
    metadata,
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
    sa.Index("ix_record_errors_job", "job_id", "id"),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("secret", sa.Text, nullable=False),  # encrypted under the server key
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("retired_at", UtcDateTime, nullable=True),
    sa.Index("ix_signing_keys_tenant", "tenant_id", "created_at"),
)

# Things, thing groups and fleet jobs, for the AWS IoT face (migration 0004) ---------------------

iot_things = sa.Table(
    "iot_things",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("thing_type", sa.String(128), nullable=True),
    sa.Column("attributes", Json, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("tenant_id", "name", name="uq_iot_things_name"),
)

iot_thing_groups = sa.Table(
    "iot_thing_groups",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("description", sa.String(2028), nullable=True),
    sa.Column("attributes", Json, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("tenant_id", "name", name="uq_iot_thing_groups_name"),
)

iot_thing_group_members = sa.Table(
    "iot_thing_group_members",
    metadata,
    sa.Column(
        "group_id", Id, sa.ForeignKey("iot_thing_groups.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("thing_id", Id, sa.ForeignKey("iot_things.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("added_at", UtcDateTime, nullable=False),
)

# A fleet job: one row per job made with several targets; its id is the parent job's, whose
# children (one per thing, `targets` = [thing]) carry the executions.
fleet_jobs = sa.Table(
    "fleet_jobs",
    metadata,
    sa.Column("id", Id, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("description", sa.String(2028), nullable=True),
    sa.Column("targets", Json, nullable=False),
    sa.Column("rollout_per_minute", sa.Integer, nullable=True),
    sa.Column("abort_criteria", Json, nullable=True),
    sa.Column("retry_criteria", Json, nullable=True),
    sa.Column("timeout_minutes", sa.Integer, nullable=True),
    sa.Column("force_canceled", sa.Boolean, nullable=True),
    sa.Column("reason_code", sa.String(128), nullable=True),
    sa.Column("comment", sa.String(2028), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("completed_at", UtcDateTime, nullable=True),
    # SNAPSHOT or CONTINUOUS (migration 0006): whether things joining a target group later
    # get the job too
    sa.Column("target_selection", sa.String(16), nullable=False, server_default="SNAPSHOT"),
    sa.UniqueConstraint("tenant_id", "name", name="uq_fleet_jobs_name"),
    sa.Index("ix_fleet_jobs_tenant", "tenant_id", "created_at"),
)

# Users of the Basiq face (migration 0005) -------------------------------------------------------

basiq_users = sa.Table(
    "basiq_users",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("email", sa.String(255), nullable=True),
    sa.Column("mobile", sa.String(64), nullable=True),
    sa.Column("first_name", sa.String(200), nullable=True),
    sa.Column("middle_name", sa.String(200), nullable=True),
    sa.Column("last_name", sa.String(200), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_basiq_users_tenant", "tenant_id", "created_at"),
)
