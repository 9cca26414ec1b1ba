"""PostgreSQL: `jobyard_steps_changed(job)`, which refuses a batch of ends whose steps moved.

A batch of followed ends that carries step reports for jobs with no steps yet (the common case:
quick jobs that declare none) writes their steps, merged onto none before the write, in the
batch's one statement. Should a job have steps after all (declared, or reported before), or
come to have some while the statement waits for its row, the statement calls this function,
which raises `JY001` and so undoes it whole; the batch is then written in a transaction that
merges the reports onto the steps read under the jobs' locks (`postgres_hot_path.py`). SQLite
writes its batches on one connection, with no such race, and needs nothing here.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

STEPS_CHANGED = "JY001"  # the SQLSTATE the function raises


def _on_postgres() -> bool:
    return bool(op.get_context().dialect.name == "postgresql")


def upgrade() -> None:
    if _on_postgres():
        op.execute(
            f"""
CREATE FUNCTION jobyard_steps_changed(job uuid) RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RAISE EXCEPTION 'job % has steps the batch did not merge its reports onto', job
    USING ERRCODE = '{STEPS_CHANGED}';
END
$$
"""
        )


def downgrade() -> None:
    if _on_postgres():
        op.execute("DROP FUNCTION jobyard_steps_changed(uuid)")
