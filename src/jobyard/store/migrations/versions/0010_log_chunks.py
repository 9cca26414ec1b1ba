"""Log lines kept in chunks: one row for the lines of one write, instead of one row a line.

A followed job that logs ten lines wrote ten rows and ten primary key entries besides its own
three writes; on PostgreSQL a line cost as much as the rest of its job, and following a job cost
a quarter of the throughput or more (`scripts/bench`, workload `follow`). A chunk holds the
lines of one update or append (`store/log_chunks.py` has the shape), so a job's lines are one
insert. Existing lines become chunks of one line each; a downgrade makes rows of lines again.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jobyard.store.types import Id, UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _on_postgres() -> bool:
    return bool(op.get_context().dialect.name == "postgresql")


def upgrade() -> None:
    op.create_table(
        "log_chunks",
        sa.Column("job_id", Id, primary_key=True),
        sa.Column("first_seq", sa.BigInteger, primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("execution_number", sa.Integer, nullable=False),
        sa.Column("ts", UtcDateTime, nullable=False),
        sa.Column("lines", sa.Text, nullable=False),
    )
    line = (
        "json_build_array(json_build_array(NULL, source, data))::text"
        if _on_postgres()
        else "json_array(json_array(NULL, source, data))"
    )
    op.execute(  # of this module's own fragments, no values
        "INSERT INTO log_chunks (job_id, first_seq, last_seq, tenant_id, execution_number, ts,"  # noqa: S608
        " lines) SELECT job_id, seq, seq, tenant_id, execution_number, ts, "
        + line
        + " FROM log_entries"
    )
    op.drop_table("log_entries")


def downgrade() -> None:
    op.create_table(
        "log_entries",
        sa.Column("job_id", Id, primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("execution_number", sa.Integer, nullable=False),
        sa.Column("ts", UtcDateTime, nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    # A chunk's line is an array, [micros, source, data], or an object as `CheckedLines` write
    # it: {"data", "source"?, "ts"?}, its time in RFC 3339 with six digits or none past the
    # second (`store/log_chunks.py`).
    if _on_postgres():
        lines = (
            "SELECT c.job_id, c.first_seq + x.ord - 1, c.tenant_id, c.execution_number,"
            " coalesce(to_timestamp((x.line ->> 0)::bigint / 1e6),"
            " (x.line ->> 'ts')::timestamptz, c.ts),"
            " coalesce(x.line ->> 1, x.line ->> 'source', 'stdout'),"
            " coalesce(x.line ->> 2, x.line ->> 'data')"
            " FROM log_chunks c,"
            " jsonb_array_elements(c.lines::jsonb) WITH ORDINALITY AS x(line, ord)"
        )
    else:
        # a time as epoch seconds, as `UtcDateTime` writes them: whole microseconds over 1e6
        lines = (
            "SELECT job_id, seq, tenant_id, execution_number, coalesce(m / 1e6,"
            " (CAST(strftime('%s', substr(t, 1, 19) || ltrim(substr(t, 20), '.0123456789'))"
            " AS INTEGER) * 1000000"
            " + CASE substr(t, 20, 1) WHEN '.' THEN CAST(substr(t, 21, 6) AS INTEGER) ELSE 0 END"
            ") / 1e6, ts), source, data"
            " FROM (SELECT c.job_id, c.first_seq + x.key AS seq, c.tenant_id,"
            " c.execution_number, c.ts, json_extract(x.value, '$[0]') AS m,"
            " json_extract(x.value, '$.ts') AS t,"
            " coalesce(json_extract(x.value, '$[1]'), json_extract(x.value, '$.source'),"
            " 'stdout') AS source,"
            " coalesce(json_extract(x.value, '$[2]'), json_extract(x.value, '$.data')) AS data"
            " FROM log_chunks c, json_each(c.lines) AS x)"
        )
    op.execute(
        "INSERT INTO log_entries (job_id, seq, tenant_id, execution_number, ts, source, data) "
        + lines
    )
    op.drop_table("log_chunks")
