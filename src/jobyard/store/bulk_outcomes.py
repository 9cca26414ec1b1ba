"""Carrying a batch of worker updates to their jobs: a few statements for the whole batch.

The job side of the bulk update path (`bulk_updates.py`): each applied row's result and error
kept on its job, each final status ending its job or, for a failure with attempts left,
queueing the next execution after its backoff — what `_write_job_outcome` and `_finish_job`
do for one row. Every job write is conditional on the row's execution still being the job's
latest (`attempts` = its number).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from jobyard.domain.entities import COUNTERS, Execution, ExecutionUpdate
from jobyard.domain.retry import RetryPolicy
from jobyard.domain.states import ExecutionStatus, JobStatus, job_status_for
from jobyard.domain.steps import merge_steps
from jobyard.store.execution_queries import ExecutionQueries
from jobyard.store.tables import executions, jobs
from jobyard.store.types import Id, Json

ES = ExecutionStatus
Columns = Sequence[tuple[str, sa.types.TypeEngine[Any]]]

_OUTCOME_COLUMNS: Columns = (
    ("job_id", Id),
    ("execution_number", sa.Integer()),
    ("status", sa.String()),
    ("result", Json),
    ("error", Json),
)
_NEXT_COLUMNS: Columns = (
    ("job_id", Id),
    ("execution_number", sa.Integer()),
    ("tenant_id", Id),
    ("queue", sa.String()),
    ("type", sa.String()),
    ("priority", sa.Integer()),
    ("delay_s", sa.Float()),
)

# What following a job writes onto it: steps and progress (null: unchanged), counter increments.
_FOLLOW_COLUMNS: Columns = (
    ("job_id", Id),
    ("execution_number", sa.Integer()),
    ("steps", Json),
    ("progress", Json),
    *((name, sa.BigInteger()) for name in COUNTERS),
)


class BulkOutcomes(ExecutionQueries):
    @abstractmethod
    def _per_row(self, name: str, columns: Columns, values: list[tuple[Any, ...]]) -> sa.FromClause:
        """A relation `name` with one row per tuple of `values`, typed by `columns`: the
        backend's way to give one statement many rows' own values."""

    async def _jobs_note(self, conn: AsyncConnection, applied: list[ExecutionUpdate]) -> None:
        """Keep the result or error that running executions report on their jobs."""
        noted = [
            (u.job_id, u.execution_number, None, u.result, u.error)
            for u in applied
            if u.result is not None or u.error is not None
        ]
        if not noted:
            return
        o = self._per_row("o", _OUTCOME_COLUMNS, noted)
        await conn.execute(
            sa.update(jobs)
            .where(self._latest_of_job(o))
            .values(updated_at=self._now(), **self._outcome_values(o))
        )

    async def _jobs_follow(
        self, conn: AsyncConnection, applied: list[tuple[ExecutionUpdate, Execution]]
    ) -> None:
        """Steps, progress and counters of applied updates onto their jobs, as `_write_follow`
        does for one: counters added in SQL, steps merged under the rows' locks (taken in id
        order) and stamped with each update's database time."""
        if not applied:
            return
        stepped = sorted({u.job_id for u, _ in applied if u.steps is not None})
        current: dict[str, Any] = {}
        if stepped:
            result = await conn.execute(
                sa.select(jobs.c.id, jobs.c.steps)
                .where(jobs.c.id.in_(stepped))
                .order_by(jobs.c.id)
                .with_for_update()
            )
            current = {str(r.id): r.steps or [] for r in result}
        values = []
        for u, ex in applied:
            steps = None
            if u.steps is not None:
                steps = merge_steps(current.get(u.job_id, []), u.steps, ex.last_updated_at)
            added = u.counters or {}
            counts = (added.get(name, 0) for name in COUNTERS)
            values.append((u.job_id, u.execution_number, steps, u.progress, *counts))
        f = self._per_row("f", _FOLLOW_COLUMNS, values)
        await conn.execute(
            sa.update(jobs)
            .where(self._latest_of_job(f))
            .values(
                updated_at=self._now(),
                steps=sa.func.coalesce(f.c.steps, jobs.c.steps),
                progress=sa.func.coalesce(f.c.progress, jobs.c.progress),
                **{name: jobs.c[name] + f.c[name] for name in COUNTERS},
            )
        )

    async def _jobs_finish(self, conn: AsyncConnection, applied: list[ExecutionUpdate]) -> None:
        """Carry final statuses to their jobs: retry a failure while the job has attempts left
        and no kill order, else end the job with its execution's status."""
        policies = await self._retry_policies(
            conn, [u.job_id for u in applied if u.status is ES.FAILED]
        )
        ends: list[tuple[Any, ...]] = []
        retries: list[tuple[Any, ...]] = []
        delays: dict[str, float] = {}
        for u in applied:
            assert u.status is not None
            policy = policies.get(u.job_id) if u.status is ES.FAILED else None
            if policy is not None and policy.attempts_left(u.execution_number):
                retries.append((u.job_id, u.execution_number, None, u.result, u.error))
                delays[u.job_id] = policy.delay_s(u.execution_number)
            else:
                status = job_status_for(u.status).value
                ends.append((u.job_id, u.execution_number, status, u.result, u.error))
        if ends:
            await self._jobs_end(conn, ends)
        if retries:
            await self._jobs_requeue(conn, retries, delays)

    @staticmethod
    def _latest_of_job(o: sa.FromClause) -> sa.ColumnElement[bool]:
        """The job of each row, while the row's execution is still its latest."""
        return sa.and_(jobs.c.id == o.c.job_id, jobs.c.attempts == o.c.execution_number)

    @staticmethod
    def _outcome_values(o: sa.FromClause) -> dict[str, Any]:
        """The job's result and error, each written only when the row gives one."""
        return {
            "result": sa.func.coalesce(o.c.result, jobs.c.result),
            "error": sa.func.coalesce(o.c.error, jobs.c.error),
        }

    async def _retry_policies(
        self, conn: AsyncConnection, job_ids: list[str]
    ) -> dict[str, RetryPolicy]:
        """The retry policy of each of these jobs that may be retried: none under a kill order."""
        if not job_ids:
            return {}
        result = await conn.execute(
            sa.select(
                jobs.c.id, jobs.c.max_attempts, jobs.c.backoff_base_s, jobs.c.backoff_max_s
            ).where(jobs.c.id.in_(job_ids), jobs.c.kill_requested_at.is_(None))
        )
        return {
            str(r.id): RetryPolicy(r.max_attempts, r.backoff_base_s, r.backoff_max_s)
            for r in result
        }

    async def _jobs_end(self, conn: AsyncConnection, ends: list[tuple[Any, ...]]) -> None:
        """End each job with its execution's status."""
        o = self._per_row("o", _OUTCOME_COLUMNS, ends)
        now = self._now()
        await conn.execute(
            sa.update(jobs)
            .where(self._latest_of_job(o))
            .values(status=o.c.status, completed_at=now, updated_at=now, **self._outcome_values(o))
        )

    async def _jobs_requeue(
        self, conn: AsyncConnection, retries: list[tuple[Any, ...]], delays: dict[str, float]
    ) -> None:
        """Queue the next attempt of each failed job that has one left, after its backoff."""
        o = self._per_row("o", _OUTCOME_COLUMNS, retries)
        requeued = await conn.execute(
            sa.update(jobs)
            .where(self._latest_of_job(o))
            .values(
                status=JobStatus.QUEUED.value,
                attempts=o.c.execution_number + 1,
                updated_at=self._now(),
                **self._outcome_values(o),
            )
            .returning(
                jobs.c.id,
                jobs.c.attempts,
                jobs.c.tenant_id,
                jobs.c.queue,
                jobs.c.type,
                jobs.c.priority,
            )
        )
        nexts = sorted((*r, delays[str(r.id)]) for r in requeued)
        if nexts:
            await self._executions_queue(conn, nexts)

    async def _executions_queue(self, conn: AsyncConnection, nexts: list[tuple[Any, ...]]) -> None:
        """Insert the next execution of each requeued job, as `_insert_execution` does."""
        n = self._per_row("n", _NEXT_COLUMNS, nexts)
        now = self._now()
        await conn.execute(
            sa.insert(executions).from_select(
                [
                    "job_id",
                    "execution_number",
                    "tenant_id",
                    "queue",
                    "type",
                    "priority",
                    "status",
                    "version",
                    "status_details",
                    "queued_at",
                    "available_at",
                    "last_updated_at",
                ],
                sa.select(
                    n.c.job_id,
                    n.c.execution_number,
                    n.c.tenant_id,
                    n.c.queue,
                    n.c.type,
                    n.c.priority,
                    sa.literal(ES.QUEUED.value, sa.String()),
                    sa.literal(1, sa.Integer()),
                    sa.literal({}, Json),
                    now,
                    self._now_plus(n.c.delay_s),
                    now,
                ),
            )
        )


__all__ = ["BulkOutcomes", "Columns"]
