"""Log lines and record errors that come with worker updates, written with the updates.

A worker sends what a job wrote with its next update (a heartbeat, a progress report, its
completion), so that a burst of jobs costs one request, and a job's last lines commit with its
end: a tail that sees the end has seen them. They are written in the updates' own transaction,
for the updates that applied only (a refused update writes nothing), and in a few statements
for the whole batch, however many executions it names. Lines are numbered as the logs route
numbers them, from the job's counter (`jobs.log_seq`, gap-free per job), in the order of the
updates in the batch and of the lines in each.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from jobyard.domain.entities import ExecutionUpdate, UpdateOutcome
from jobyard.domain.ids import new_id
from jobyard.store.bulk_outcomes import BulkOutcomes, Columns
from jobyard.store.log_chunks import pieces
from jobyard.store.tables import executions, jobs, log_chunks, record_errors
from jobyard.store.types import Id, Json

Key = tuple[str, int]
Written = list[tuple[ExecutionUpdate, UpdateOutcome]]

# The tenant rides on each row, rather than as a constant beside it: SQLite, without statistics,
# would take `tenant_id = ?` for the most selective condition and walk the tenant's every job.
_JOB_COUNTS: Columns = (("job_id", Id), ("tenant_id", Id), ("n", sa.Integer()))
_EXECUTION_COUNTS: Columns = (
    ("job_id", Id),
    ("execution_number", sa.Integer()),
    ("n", sa.Integer()),
)
_CHUNKS: Columns = (
    ("job_id", Id),
    ("first_seq", sa.BigInteger()),
    ("last_seq", sa.BigInteger()),
    ("execution_number", sa.Integer()),
    ("lines", sa.Text()),
)
_RECORD_ERRORS: Columns = (
    ("id", Id),
    ("job_id", Id),
    ("execution_number", sa.Integer()),
    ("code", sa.String()),
    ("message", sa.Text()),
    ("source", sa.String()),
    ("data", sa.Text()),  # as JSON text: an array of JSON values would read as a 2-D array
    ("retriable", sa.Boolean()),
)


class UpdateOutput(BulkOutcomes):
    async def _write_update_output(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        updates: Sequence[ExecutionUpdate],
        outcomes: Sequence[UpdateOutcome | None],
    ) -> None:
        """Append the lines and record errors of the updates that applied; each outcome of an
        update with lines learns how many lines its execution has had in all (`log_lines`),
        for the service to keep the log bounded."""
        applied: Written = [
            (u, o)
            for u, o in zip(updates, outcomes, strict=True)
            if o is not None and o.applied and (u.logs or u.record_errors)
        ]
        with_lines = [(u, o) for u, o in applied if u.logs]
        if with_lines:
            await self._append_update_lines(conn, tenant_id, with_lines)
        with_errors = [u for u, _ in applied if u.record_errors]
        if with_errors:
            await self._append_update_record_errors(conn, tenant_id, with_errors)

    async def _append_update_lines(
        self, conn: AsyncConnection, tenant_id: str, written: Written
    ) -> None:
        """Take a block of seqs from each job's counter, count the lines on each execution, and
        insert every line: three statements in all."""
        per_job: dict[str, int] = {}
        per_execution: dict[Key, int] = {}
        for u, _ in written:
            n = len(u.logs or ())
            per_job[u.job_id] = per_job.get(u.job_id, 0) + n
            key = (u.job_id, u.execution_number)
            per_execution[key] = per_execution.get(key, 0) + n
        c = self._per_row("c", _JOB_COUNTS, [(j, tenant_id, n) for j, n in sorted(per_job.items())])
        taken = await conn.execute(
            sa.update(jobs)
            .where(jobs.c.id == c.c.job_id, jobs.c.tenant_id == c.c.tenant_id)
            .values(log_seq=jobs.c.log_seq + c.c.n)
            .returning(jobs.c.id, jobs.c.log_seq)
        )
        next_seq = {str(r.id): int(r.log_seq) - per_job[str(r.id)] + 1 for r in taken}
        e = self._per_row(
            "e", _EXECUTION_COUNTS, sorted((j, x, n) for (j, x), n in per_execution.items())
        )
        counted = await conn.execute(
            sa.update(executions)
            .where(
                executions.c.tenant_id == tenant_id,
                executions.c.job_id == e.c.job_id,
                executions.c.execution_number == e.c.execution_number,
            )
            .values(log_lines=executions.c.log_lines + e.c.n)
            .returning(executions.c.job_id, executions.c.execution_number, executions.c.log_lines)
        )
        totals = {(str(r.job_id), int(r.execution_number)): int(r.log_lines) for r in counted}
        chunks: list[tuple[Any, ...]] = []
        for u, o in written:
            o.log_lines = totals.get((u.job_id, u.execution_number))
            if u.logs:
                seq = next_seq[u.job_id]
                chunks.extend(
                    (u.job_id, low, high, u.execution_number, text)
                    for low, high, text in pieces(seq, u.logs)
                )
                next_seq[u.job_id] = seq + len(u.logs)
        rows = self._per_row("l", _CHUNKS, chunks)
        await conn.execute(
            sa.insert(log_chunks).from_select(
                ["job_id", "first_seq", "last_seq", "tenant_id", "execution_number", "ts", "lines"],
                sa.select(
                    rows.c.job_id,
                    rows.c.first_seq,
                    rows.c.last_seq,
                    sa.literal(tenant_id, Id),
                    rows.c.execution_number,
                    self._now(),
                    rows.c.lines,
                ),
            )
        )

    async def _append_update_record_errors(
        self, conn: AsyncConnection, tenant_id: str, written: list[ExecutionUpdate]
    ) -> None:
        """Insert every record error of the batch in one statement, in order (their ids are
        time-ordered, and the errors are listed by id)."""
        found = [
            (
                new_id(),
                u.job_id,
                u.execution_number,
                e.code,
                e.message,
                e.source,
                None if e.data is None else orjson.dumps(e.data).decode(),
                e.retriable,
            )
            for u in written
            for e in u.record_errors or ()
        ]
        rows = self._per_row("r", _RECORD_ERRORS, found)
        await conn.execute(
            sa.insert(record_errors).from_select(
                [
                    "id",
                    "tenant_id",
                    "job_id",
                    "execution_number",
                    "code",
                    "message",
                    "source",
                    "data",
                    "retriable",
                    "created_at",
                ],
                sa.select(
                    rows.c.id,
                    sa.literal(tenant_id, Id),
                    rows.c.job_id,
                    rows.c.execution_number,
                    rows.c.code,
                    rows.c.message,
                    rows.c.source,
                    self._json_of_text(rows.c.data),
                    rows.c.retriable,
                    self._now(),
                ),
            )
        )

    def _json_of_text(self, text: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        """JSON text as a JSON column's value: PostgreSQL parses it into `jsonb`; SQLite keeps
        JSON as its text."""
        if self.dialect == "postgresql":
            return sa.cast(text, JSONB)
        return sa.type_coerce(text, Json)


__all__ = ["UpdateOutput"]
