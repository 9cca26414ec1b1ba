"""Fleet jobs say how they select their targets: SNAPSHOT (the things of the targets when the
job was made) or CONTINUOUS (also the things that join a target group later).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fleet_jobs") as batch:
        batch.add_column(
            sa.Column("target_selection", sa.String(16), nullable=False, server_default="SNAPSHOT")
        )


def downgrade() -> None:
    with op.batch_alter_table("fleet_jobs") as batch:
        batch.drop_column("target_selection")
