"""Log entries: appended in batches with server-given sequence numbers, read by range.

Sequence numbers come from a counter on the job row (`jobs.log_seq`): taking a block of them is
one conditional UPDATE, which also serialises appends to one job, so `seq` is gap-free per job
and a tail that resumes after seq N misses nothing and repeats nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from jobyard.domain.entities import LogEntry, NewLogEntry
from jobyard.store.sql_store import SqlStoreBase
from jobyard.store.tables import executions, jobs, log_entries


def _entry(r: Any) -> LogEntry:
    return LogEntry(
        seq=int(r.seq),
        execution_number=r.execution_number,
        ts=r.ts,
        source=r.source,
        data=r.data,
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
                ts = sa.bindparam("ts_in", type_=log_entries.c.ts.type)
                await conn.execute(
                    sa.insert(log_entries).values(ts=sa.func.coalesce(ts, self._now())),
                    [
                        {
                            "job_id": job_id,
                            "seq": first + i,
                            "tenant_id": tenant_id,
                            "execution_number": execution_number,
                            "ts_in": e.ts,
                            "source": e.source,
                            "data": e.data,
                        }
                        for i, e in enumerate(entries)
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
        cond = [log_entries.c.tenant_id == tenant_id, log_entries.c.job_id == job_id]
        if execution_number is not None:
            cond.append(log_entries.c.execution_number == execution_number)
        stmt = sa.select(log_entries).where(*cond)
        if after is not None:
            stmt = stmt.where(log_entries.c.seq > after).order_by(log_entries.c.seq).limit(limit)
        else:
            stmt = stmt.order_by(log_entries.c.seq.desc()).limit(limit)
        async with self._read() as conn:
            found = [_entry(r) for r in await conn.execute(stmt)]
        return found if after is not None else found[::-1]

    async def log_trim(
        self, tenant_id: str, job_id: str, execution_number: int, keep: int, marker: str
    ) -> int:
        """Drop the oldest entries of an execution beyond the newest `keep` - 1, and put a system
        line `marker` (formatted with the number the execution has lost in all) in the place of
        the newest line dropped. Answers how many were dropped now."""
        cond = (
            log_entries.c.tenant_id == tenant_id,
            log_entries.c.job_id == job_id,
            log_entries.c.execution_number == execution_number,
        )
        async with self._write() as conn:
            floor = (
                await conn.execute(
                    sa.select(log_entries.c.seq)
                    .where(*cond)
                    .order_by(log_entries.c.seq.desc())
                    .offset(keep - 1)
                    .limit(1)
                )
            ).scalar()
            if floor is None:
                return 0
            result = await conn.execute(
                sa.delete(log_entries).where(*cond, log_entries.c.seq <= floor)
            )
            dropped = int(result.rowcount or 0)
            total = (
                await conn.execute(
                    sa.select(executions.c.log_lines).where(
                        executions.c.job_id == job_id,
                        executions.c.execution_number == execution_number,
                    )
                )
            ).scalar_one()
            await conn.execute(
                sa.insert(log_entries).values(
                    job_id=job_id,
                    seq=floor,
                    tenant_id=tenant_id,
                    execution_number=execution_number,
                    ts=self._now(),
                    source="system",
                    data=marker.format(int(total) - keep + 1),
                )
            )
            return dropped
