"""Log lines: appended in chunks with server-given sequence numbers, read by range.

Sequence numbers come from a counter on the job row (`jobs.log_seq`): taking a block of them is
one conditional UPDATE, which also serialises appends to one job, so `seq` is gap-free per job
and a tail that resumes after seq N misses nothing and repeats nothing. The lines of one write
are one row (`store/log_chunks.py`); a read picks the chunks that hold the lines it wants.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from jobyard.domain.entities import LogEntry, NewLogEntry
from jobyard.store.log_chunks import MAX_CHUNK_LINES, entries_of, lines_text, pieces
from jobyard.store.sql_store import SqlStoreBase
from jobyard.store.tables import executions, jobs, log_chunks

c = log_chunks.c


def _chunks_for(
    cond: list[sa.ColumnElement[bool]], after: int | None, limit: int
) -> sa.Select[Any]:
    """The chunks holding the first `limit` lines after seq `after` (or, with no `after`, the
    newest `limit` lines), in seq order: a running count of their lines stops the read."""
    if after is None:
        size: sa.ColumnElement[int] = c.last_seq - c.first_seq + 1
        order: Any = c.first_seq.desc()
    else:
        cond = [*cond, c.last_seq > after, c.first_seq > after - MAX_CHUNK_LINES]
        start = sa.case((c.first_seq > after, c.first_seq), else_=sa.literal(after + 1))
        size = c.last_seq - start + 1
        order = c.first_seq
    counted = (
        sa.select(
            c.first_seq,
            c.execution_number,
            c.ts,
            c.lines,
            size.label("size"),
            sa.func.sum(size).over(order_by=order).label("upto"),
        )
        .where(*cond)
        .subquery()
    )
    return (
        sa.select(counted.c.first_seq, counted.c.execution_number, counted.c.ts, counted.c.lines)
        .where(counted.c.upto - counted.c.size < limit)
        .order_by(counted.c.first_seq)
    )


class LogQueries(SqlStoreBase):
    async def log_append(
        self,
        tenant_id: str,
        job_id: str,
        execution_number: int,
        entries: Sequence[NewLogEntry],
        worker_id: str | None = None,
        holder: str | None = None,
    ) -> tuple[int, int] | None:
        """Append entries to an execution's log. Answers the last seq given and how many lines
        the execution has had in all; None when the execution does not exist (or, with
        `worker_id`, is held by another worker)."""
        cond = self._execution_named(tenant_id, job_id, execution_number, worker_id, holder)
        async with self._write() as conn:
            lines = (
                await conn.execute(
                    sa.update(executions)
                    .where(*cond)
                    .values(log_lines=executions.c.log_lines + len(entries))
                    .returning(executions.c.log_lines)
                )
            ).scalar()
            if lines is None:
                return None
            last = (
                await conn.execute(
                    sa.update(jobs)
                    .where(jobs.c.tenant_id == tenant_id, jobs.c.id == job_id)
                    .values(log_seq=jobs.c.log_seq + len(entries))
                    .returning(jobs.c.log_seq)
                )
            ).scalar_one()
            if entries:
                first = int(last) - len(entries) + 1
                await conn.execute(
                    sa.insert(log_chunks).values(ts=self._now()),
                    [
                        {
                            "job_id": job_id,
                            "first_seq": low,
                            "last_seq": high,
                            "tenant_id": tenant_id,
                            "execution_number": execution_number,
                            "lines": text,
                        }
                        for low, high, text in pieces(first, entries)
                    ],
                )
        return int(last), int(lines)

    async def log_list(
        self,
        tenant_id: str,
        job_id: str,
        *,
        after: int | None,
        limit: int,
        execution_number: int | None = None,
    ) -> list[LogEntry]:
        """Entries after `after` in order; with no `after`, the newest `limit` entries, in order."""
        cond = [c.tenant_id == tenant_id, c.job_id == job_id]
        if execution_number is not None:
            cond.append(c.execution_number == execution_number)
        async with self._read() as conn:
            rows = list(await conn.execute(_chunks_for(cond, after, limit)))
        found = [e for row in rows for e in entries_of(row)]
        if after is not None:
            return [e for e in found if e.seq > after][:limit]
        return found[-limit:]

    async def log_trim(
        self, tenant_id: str, job_id: str, execution_number: int, keep: int, marker: str
    ) -> int:
        """Drop the oldest entries of an execution beyond the newest `keep` - 1, and put a system
        line `marker` (formatted with the number the execution has lost in all) in the place of
        the newest line dropped. Answers how many were dropped now."""
        cond = (
            c.tenant_id == tenant_id,
            c.job_id == job_id,
            c.execution_number == execution_number,
        )
        async with self._write() as conn:
            spans = await conn.execute(
                sa.select(c.first_seq, c.last_seq).where(*cond).order_by(c.first_seq.desc())
            )
            floor, kept = None, 0
            for first, last in spans:
                if kept + (last - first + 1) >= keep:
                    floor = int(last) - (keep - kept - 1)
                    break
                kept += last - first + 1
            if floor is None:
                return 0
            cut = (
                await conn.execute(
                    sa.select(c.first_seq, c.execution_number, c.ts, c.lines).where(
                        *cond, c.first_seq <= floor, c.last_seq > floor
                    )
                )
            ).first()
            gone = await conn.execute(
                sa.delete(log_chunks)
                .where(*cond, c.first_seq <= floor)
                .returning(c.first_seq, c.last_seq)
            )
            dropped = sum(min(int(last), floor) - int(first) + 1 for first, last in gone)
            rest = [e for e in entries_of(cut) if e.seq > floor] if cut is not None else []
            total = (
                await conn.execute(
                    sa.select(executions.c.log_lines).where(
                        executions.c.job_id == job_id,
                        executions.c.execution_number == execution_number,
                    )
                )
            ).scalar_one()
            # The marker, and what the cut chunk keeps (each line with its own time), as chunks.
            kept_lines = [NewLogEntry(e.source, e.data, e.ts) for e in rest]
            pieces_left = [(floor, [NewLogEntry("system", marker.format(int(total) - keep + 1))])]
            if kept_lines:
                pieces_left.append((floor + 1, kept_lines))
            await conn.execute(
                sa.insert(log_chunks).values(
                    job_id=job_id,
                    tenant_id=tenant_id,
                    execution_number=execution_number,
                    ts=self._now(),
                ),
                [
                    {"first_seq": low, "last_seq": low + len(ls) - 1, "lines": lines_text(ls)}
                    for low, ls in pieces_left
                ],
            )
            return dropped
