"""Jobs with a kill order not yet carried out, indexed: every claim that names its worker asks
which of the executions it holds are to be stopped, and the answer is almost always none.
Found through this index, that question reads only such jobs; before, it read every running
execution of the worker, and each one's job.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PENDING_KILL = "kill_requested_at IS NOT NULL AND status IN ('in_progress', 'canceling')"


def upgrade() -> None:
    op.create_index(
        "ix_jobs_kill_pending",
        "jobs",
        ["tenant_id"],
        postgresql_where=sa.text(PENDING_KILL),
        sqlite_where=sa.text(PENDING_KILL),
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_kill_pending", table_name="jobs")
