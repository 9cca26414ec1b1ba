"""The hot path of worker updates: plain completions and heartbeats in a few statements.

A batch of updates is judged row by row, but most rows in a busy system are alike: "succeeded"
(or "rejected") with nothing else, or a bare heartbeat. Those are written with one conditional
UPDATE per kind for the whole batch (matching `(job_id, execution_number[, version])` tuples),
instead of one statement per row. Everything else — failures that may retry, cancellations,
rows with results or details, repeated rows — takes the general path, one row at a time.
A row the bulk statement misses is answered by the same refusal logic as the general path.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from jobyard.domain.entities import ExecutionUpdate, UpdateOutcome
from jobyard.domain.states import ExecutionStatus, job_status_for
from jobyard.store import rows
from jobyard.store.execution_queries import ExecutionQueries
from jobyard.store.tables import executions, jobs

ES = ExecutionStatus
_BULK_FINAL = frozenset({ES.SUCCEEDED, ES.REJECTED})
Key = tuple[str, int]


def _plain(u: ExecutionUpdate) -> bool:
    return (
        u.result is None
        and u.error is None
        and u.status_details is None
        and u.exit_code is None
        and u.lease_s is None
    )


def _bulk_kind(u: ExecutionUpdate) -> str | None:
    """ "final:<status>" or "beat" for rows the bulk path can take, else None."""
    if not _plain(u):
        return None
    if u.status in _BULK_FINAL:
        return f"final:{u.status.value}"
    if u.status is None or u.status is ES.IN_PROGRESS:
        return "beat"
    return None


class BulkUpdates(ExecutionQueries):
    async def execution_update_many(
        self, tenant_id: str, updates: list[ExecutionUpdate]
    ) -> list[UpdateOutcome]:
        # One group per kind and lease holder: a group is one statement.
        groups: dict[tuple[str, str], list[int]] = {}
        general: list[int] = []
        seen: set[Key] = set()
        for i, u in enumerate(updates):
            key = (u.job_id, u.execution_number)
            kind = _bulk_kind(u) if key not in seen else None
            seen.add(key)
            if kind is None:
                general.append(i)
            else:
                groups.setdefault((kind, u.worker_id or ""), []).append(i)
        out: list[UpdateOutcome | None] = [None] * len(updates)
        async with self._write() as conn:
            for (kind, _holder), idxs in sorted(groups.items()):
                batch = [updates[i] for i in idxs]
                if kind == "beat":
                    done = await self._bulk_beat(conn, tenant_id, batch)
                else:
                    done = await self._bulk_final(conn, tenant_id, ES(kind[6:]), batch)
                for i, u in zip(idxs, batch, strict=True):
                    hit = done.get((u.job_id, u.execution_number))
                    out[i] = hit or await self._refusal(conn, tenant_id, u)
            # Rows in key order, so two batches that share rows lock them in the same order and
            # cannot deadlock; the sort is stable, so repeats of one row keep their order.
            general.sort(key=lambda i: (updates[i].job_id, updates[i].execution_number))
            for i in general:
                out[i] = await self._update_one(conn, tenant_id, updates[i])
        return [o for o in out if o is not None]

    @staticmethod
    def _match(batch: list[ExecutionUpdate]) -> sa.ColumnElement[bool]:
        """Rows named by the batch, each at its expected version when it gives one, and held
        by the batch's worker when it names one (all rows of a batch name the same)."""
        versioned = [
            (u.job_id, u.execution_number, u.expected_version)
            for u in batch
            if u.expected_version is not None
        ]
        loose = [(u.job_id, u.execution_number) for u in batch if u.expected_version is None]
        conds = []
        if versioned:
            cols = (executions.c.job_id, executions.c.execution_number, executions.c.version)
            conds.append(sa.tuple_(*cols).in_(versioned))
        if loose:
            conds.append(sa.tuple_(executions.c.job_id, executions.c.execution_number).in_(loose))
        match = sa.or_(*conds)
        holder = batch[0].worker_id
        return match if holder is None else sa.and_(match, executions.c.worker_id == holder)

    @staticmethod
    def _kill_requested() -> Any:
        """The job's kill order, answered with every write so the worker learns of it."""
        return (
            sa.select(jobs.c.kill_requested_at).where(jobs.c.id == executions.c.job_id)
        ).scalar_subquery()

    def _live(self, tenant_id: str) -> list[sa.ColumnElement[bool]]:
        return [
            executions.c.tenant_id == tenant_id,
            executions.c.status == ES.IN_PROGRESS.value,
            executions.c.lease_expires_at > self._now(),
        ]

    async def _bulk_final(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        status: ExecutionStatus,
        batch: list[ExecutionUpdate],
    ) -> dict[Key, UpdateOutcome]:
        now = self._now()
        result = await conn.execute(
            sa.update(executions)
            .where(*self._live(tenant_id), self._match(batch))
            .values(
                status=status.value,
                version=executions.c.version + 1,
                last_updated_at=now,
                completed_at=now,
                lease_expires_at=None,
            )
            .returning(executions, self._kill_requested().label("kill_requested_at"))
        )
        done = {}
        for r in result.mappings():
            ex = rows.execution_from(r)
            cancel = r["kill_requested_at"] is not None
            done[(ex.job_id, ex.execution_number)] = UpdateOutcome(ex, True, cancel)
        if done:
            await conn.execute(
                sa.update(jobs)
                .where(sa.tuple_(jobs.c.id, jobs.c.attempts).in_(list(done)))
                .values(status=job_status_for(status).value, completed_at=now, updated_at=now)
            )
        return done

    async def _bulk_beat(
        self, conn: AsyncConnection, tenant_id: str, batch: list[ExecutionUpdate]
    ) -> dict[Key, UpdateOutcome]:
        result = await conn.execute(
            sa.update(executions)
            .where(*self._live(tenant_id), self._match(batch))
            .values(
                version=executions.c.version + 1,
                last_updated_at=self._now(),
                lease_expires_at=self._now_plus(executions.c.lease_s),
            )
            .returning(executions, self._kill_requested().label("kill_requested_at"))
        )
        done = {}
        for r in result.mappings():
            ex = rows.execution_from(r)
            cancel = r["kill_requested_at"] is not None
            done[(ex.job_id, ex.execution_number)] = UpdateOutcome(ex, True, cancel)
        return done


__all__ = ["BulkUpdates"]
