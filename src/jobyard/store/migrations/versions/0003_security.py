"""Security: key types, things, subjects, encrypted secrets, collaborators, lease holders.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jobyard.store.types import Json

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("type", sa.String(16), nullable=False, server_default="api"))
        batch.add_column(sa.Column("subject", sa.String(64), nullable=True))
        batch.add_column(sa.Column("things", Json, nullable=True))
        batch.add_column(sa.Column("secret_enc", sa.Text, nullable=True))
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("collaborators", Json, nullable=False, server_default="[]"))
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("holder", sa.String(64), nullable=True))
    with op.batch_alter_table("signing_keys") as batch:
        batch.alter_column("secret", type_=sa.Text, existing_type=sa.String(128))


def downgrade() -> None:
    with op.batch_alter_table("signing_keys") as batch:
        batch.alter_column("secret", type_=sa.String(128), existing_type=sa.Text)
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("holder")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("collaborators")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("secret_enc")
        batch.drop_column("things")
        batch.drop_column("subject")
        batch.drop_column("type")
