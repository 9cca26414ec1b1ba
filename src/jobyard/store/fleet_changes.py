"""Changes to a fleet job after it was made: its settings (while it is in progress) and the
deletion of one thing's execution.

The fleet row's conditional write (still in progress) decides an update; what follows in the
same transaction carries it to the children that have not got that far: a new rollout rate
reschedules the children not yet released, a timeout reaches those not started, retries those
not ended.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from jobyard.domain.entities import Execution
from jobyard.domain.errors import Conflict, NotFound
from jobyard.domain.states import TERMINAL_EXECUTION, TERMINAL_JOB, ExecutionStatus, JobStatus
from jobyard.domain.things import AbortCriterion, FleetChanges, FleetStatus
from jobyard.store import rows
from jobyard.store.tables import (
    executions,
    fleet_jobs,
    job_keys,
    jobs,
    log_chunks,
    record_errors,
)
from jobyard.store.thing_queries import ThingQueries

ES = ExecutionStatus


def criteria_out(criteria: list[AbortCriterion]) -> list[dict[str, Any]]:
    return [
        {
            "failure_type": c.failure_type.value,
            "threshold": c.threshold_percentage,
            "min_executed": c.min_executed,
        }
        for c in criteria
    ]


async def while_in_progress(
    conn: AsyncConnection, tenant_id: str, fleet_id: str, values: dict[str, Any]
) -> bool:
    """Write `values` on the fleet job if it is still in progress: one conditional write.
    False when it no longer was."""
    hit = await conn.execute(
        sa.update(fleet_jobs)
        .where(
            fleet_jobs.c.tenant_id == tenant_id,
            fleet_jobs.c.id == fleet_id,
            fleet_jobs.c.status == FleetStatus.IN_PROGRESS.value,
        )
        .values(**values)
        .returning(fleet_jobs.c.id)
    )
    return hit.first() is not None


class FleetChangeQueries(ThingQueries):
    async def fleet_update(self, tenant_id: str, fleet_id: str, changes: FleetChanges) -> bool:
        """Apply `changes` to an in-progress fleet job and its children; False when the job
        was no longer in progress (nothing is written then)."""
        c = changes
        values: dict[str, Any] = {"updated_at": self._now()}
        if c.description is not None:
            values["description"] = c.description
        if c.rollout_per_minute is not None:
            values["rollout_per_minute"] = c.rollout_per_minute
        if c.abort is not None:
            values["abort_criteria"] = criteria_out(c.abort) or None
        if c.timeout_minutes is not None:
            values["timeout_minutes"] = c.timeout_minutes
        if c.retry_criteria is not None:
            values["retry_criteria"] = c.retry_criteria or None
        children = (jobs.c.tenant_id == tenant_id, jobs.c.parent_id == fleet_id)
        async with self._write() as conn:
            if not await while_in_progress(conn, tenant_id, fleet_id, values):
                return False
            if c.timeout_minutes is not None:
                not_started = [JobStatus.SCHEDULED.value, JobStatus.QUEUED.value]
                await conn.execute(
                    sa.update(jobs)
                    .where(*children, jobs.c.status.in_(not_started))
                    .values(timeout_s=c.timeout_minutes * 60)
                )
            if c.retries is not None:
                await conn.execute(
                    sa.update(jobs)
                    .where(*children, jobs.c.status.not_in([s.value for s in TERMINAL_JOB]))
                    .values(max_attempts=1 + c.retries)
                )
            if c.rollout_per_minute is not None:
                await self._reschedule(conn, tenant_id, fleet_id, c.rollout_per_minute)
        return True

    async def _reschedule(
        self, conn: AsyncConnection, tenant_id: str, fleet_id: str, per_minute: int
    ) -> None:
        """The children not yet released, in their order, due one every 60 / `per_minute`
        seconds from now; each moved only while it is still waiting (the sweep may release
        one meanwhile)."""
        waiting = await conn.execute(
            sa.select(jobs.c.id, jobs.c.attempts)
            .where(
                jobs.c.tenant_id == tenant_id,
                jobs.c.parent_id == fleet_id,
                jobs.c.status == JobStatus.SCHEDULED.value,
            )
            .order_by(jobs.c.scheduled_at, jobs.c.id)
        )
        for k, r in enumerate(waiting.all()):
            due = self._now_plus((k + 1) * 60.0 / per_minute)
            moved = await conn.execute(
                sa.update(jobs)
                .where(jobs.c.id == r.id, jobs.c.status == JobStatus.SCHEDULED.value)
                .values(scheduled_at=due)
                .returning(jobs.c.id)
            )
            if moved.first() is not None:
                await conn.execute(
                    sa.update(executions)
                    .where(
                        executions.c.job_id == r.id,
                        executions.c.execution_number == r.attempts,
                        executions.c.status == ES.QUEUED.value,
                    )
                    .values(available_at=due)
                )

    async def fleet_execution_delete(
        self, tenant_id: str, job_id: str, execution_number: int, force: bool
    ) -> Execution:
        """Delete execution `execution_number` of a fleet job's child. The child's latest is
        deleted with the child itself (the thing leaves the job's counts), in one conditional
        delete: only while it is the latest and ended, or with `force` in any status. An
        earlier one has ended by construction and goes alone, with its logs and errors.
        NotFound when there is no such execution; Conflict when it may not be deleted."""
        named = (
            executions.c.tenant_id == tenant_id,
            executions.c.job_id == job_id,
            executions.c.execution_number == execution_number,
        )
        allowed = list(ES) if force else sorted(TERMINAL_EXECUTION)
        async with self._write() as conn:
            row = (await conn.execute(sa.select(executions).where(*named))).mappings().first()
            if row is None:
                raise NotFound("job execution not found", job_id=job_id)
            ex = rows.execution_from(row)
            deletable = (
                sa.select(executions.c.job_id)
                .where(*named, executions.c.status.in_([s.value for s in allowed]))
                .exists()
            )
            gone = await conn.execute(
                sa.delete(jobs)
                .where(
                    jobs.c.tenant_id == tenant_id,
                    jobs.c.id == job_id,
                    jobs.c.parent_id.is_not(None),
                    jobs.c.attempts == execution_number,
                    deletable,
                )
                .returning(jobs.c.idempotency_key)
            )
            deleted = gone.first()
            if deleted is not None:
                for table in (log_chunks, executions):  # by name: no key to cascade from
                    await conn.execute(
                        sa.delete(table).where(
                            table.c.tenant_id == tenant_id, table.c.job_id == job_id
                        )
                    )
                if deleted.idempotency_key is not None:
                    await conn.execute(
                        sa.delete(job_keys).where(
                            job_keys.c.tenant_id == tenant_id,
                            job_keys.c.idempotency_key == deleted.idempotency_key,
                        )
                    )
                return ex
            latest = (
                await conn.execute(
                    sa.select(jobs.c.attempts).where(
                        jobs.c.tenant_id == tenant_id, jobs.c.id == job_id
                    )
                )
            ).scalar_one()
            if execution_number == latest:
                raise Conflict(
                    f"a job execution {ex.status.value.upper()} may be deleted only with force",
                    reason="invalid_transition",
                )
            await conn.execute(sa.delete(executions).where(*named))
            for table in (log_chunks, record_errors):
                await conn.execute(
                    sa.delete(table).where(
                        table.c.tenant_id == tenant_id,
                        table.c.job_id == job_id,
                        table.c.execution_number == execution_number,
                    )
                )
            return ex
