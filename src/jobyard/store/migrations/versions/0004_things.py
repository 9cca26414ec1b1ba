"""Things, thing groups with their members, and fleet jobs (a job with one child per thing).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jobyard.store.types import Id, Json, UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "iot_things",
        sa.Column("id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("thing_type", sa.String(128), nullable=True),
        sa.Column("attributes", Json, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("tenant_id", "name", name="uq_iot_things_name"),
    )
    op.create_table(
        "iot_thing_groups",
        sa.Column("id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.String(2028), nullable=True),
        sa.Column("attributes", Json, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("tenant_id", "name", name="uq_iot_thing_groups_name"),
    )
    op.create_table(
        "iot_thing_group_members",
        sa.Column(
            "group_id",
            Id,
            sa.ForeignKey("iot_thing_groups.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "thing_id", Id, sa.ForeignKey("iot_things.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("added_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "fleet_jobs",
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
        sa.UniqueConstraint("tenant_id", "name", name="uq_fleet_jobs_name"),
    )
    op.create_index("ix_fleet_jobs_tenant", "fleet_jobs", ["tenant_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_fleet_jobs_tenant", table_name="fleet_jobs")
    op.drop_table("fleet_jobs")
    op.drop_table("iot_thing_group_members")
    op.drop_table("iot_thing_groups")
    op.drop_table("iot_things")
