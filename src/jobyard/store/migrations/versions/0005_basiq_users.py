"""Basiq users in a table of their own, instead of never-run "record jobs" in the jobs table.

The records (type `basiq.user`, queue `basiq.users`, label `user_id`, params `email` and
`mobile`, one per change, the newest telling the user) become one row per live user; the
records themselves are removed, so they leave the tenant's job list. A downgrade drops the
table without bringing the records back.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from jobyard.domain.ids import is_id
from jobyard.store.types import Id, Json, UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

RECORD_TYPE = "basiq.user"
RECORD_QUEUE = "basiq.users"
CHUNK = 500

# The jobs table as this migration knows it, whatever the models say later.
_jobs = sa.table(
    "jobs",
    sa.column("id", Id),
    sa.column("tenant_id", Id),
    sa.column("type", sa.String),
    sa.column("queue", sa.String),
    sa.column("labels", Json),
    sa.column("params", Json),
    sa.column("created_at", UtcDateTime),
    sa.column("updated_at", UtcDateTime),
)
_children = [
    sa.table(name, sa.column("job_id", Id))
    for name in ("executions", "log_entries", "record_errors")
]


def _text(params: dict[str, Any], name: str, size: int) -> str | None:
    value = params.get(name)
    return value[:size] if isinstance(value, str) and value else None


def _users(records: list[Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The live users the records tell (oldest record first), and the records to remove."""
    users: dict[tuple[str, str], dict[str, Any]] = {}
    moved: list[str] = []
    for r in records:
        labels = r.labels if isinstance(r.labels, dict) else {}
        user_id = labels.get("user_id")
        if not isinstance(user_id, str) or not is_id(user_id):
            continue  # not one the face made: left as the job it is
        moved.append(str(r.id))
        params = r.params if isinstance(r.params, dict) else {}
        key = (str(r.tenant_id), user_id)
        first = users.get(key)
        users[key] = {
            "id": user_id,
            "tenant_id": key[0],
            "email": _text(params, "email", 255),
            "mobile": _text(params, "mobile", 64),
            "created_at": first["created_at"] if first else r.created_at,
            "updated_at": r.updated_at,
            "deleted": bool(params.get("deleted")),
        }
    live = [
        {k: v for k, v in u.items() if k != "deleted"}
        for u in users.values()
        if not u["deleted"] and (u["email"] or u["mobile"])
    ]
    return live, moved


def upgrade() -> None:
    basiq_users = op.create_table(
        "basiq_users",
        sa.Column("id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("email", sa.String(255), nullable=True),
        sa.Column("mobile", sa.String(64), nullable=True),
        sa.Column("first_name", sa.String(200), nullable=True),
        sa.Column("middle_name", sa.String(200), nullable=True),
        sa.Column("last_name", sa.String(200), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_basiq_users_tenant", "basiq_users", ["tenant_id", "created_at"])

    conn = op.get_bind()
    records = conn.execute(
        sa.select(_jobs)
        .where(_jobs.c.type == RECORD_TYPE, _jobs.c.queue == RECORD_QUEUE)
        .order_by(_jobs.c.id)
    ).all()
    users, moved = _users(list(records))
    if users:
        op.bulk_insert(basiq_users, users)
    for i in range(0, len(moved), CHUNK):
        chunk = moved[i : i + CHUNK]
        for child in _children:  # also where foreign keys are not enforced
            conn.execute(sa.delete(child).where(child.c.job_id.in_(chunk)))
        conn.execute(sa.delete(_jobs).where(_jobs.c.id.in_(chunk)))


def downgrade() -> None:
    op.drop_index("ix_basiq_users_tenant", table_name="basiq_users")
    op.drop_table("basiq_users")
