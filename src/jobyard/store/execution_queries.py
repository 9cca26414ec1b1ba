"""Execution operations: claim, worker updates (with fencing), and the sweep of deadlines.

Each transition is one conditional UPDATE that names the statuses it may leave (from the
domain's transition table); a miss answers the current row instead of writing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from jobyard.domain.entities import (
    ClaimedExecution,
    ClaimRequest,
    Execution,
    ExecutionUpdate,
    UpdateOutcome,
)
from jobyard.domain.retry import RetryPolicy
from jobyard.domain.states import (
    RETRIABLE,
    TERMINAL_EXECUTION,
    Actor,
    ExecutionStatus,
    JobStatus,
    can_transition,
    job_status_for,
    sources_for,
)
from jobyard.domain.steps import merge_steps
from jobyard.store import rows
from jobyard.store.job_queries import JobQueries
from jobyard.store.protocol import SweepResult
from jobyard.store.tables import executions, jobs, pending_kill, status_in

ES = ExecutionStatus
SWEEP_BATCH = 500


class ExecutionQueries(JobQueries):
    async def execution_claim(self, tenant_id: str, req: ClaimRequest) -> list[ClaimedExecution]:
        async with self._write() as conn:
            claimed = await self._claim_executions(conn, tenant_id, req)
            if not claimed:
                return []
            now = self._now()
            ids = [x.job_id for x in claimed]
            result = await conn.execute(
                sa.update(jobs)
                .where(jobs.c.id.in_(ids))
                .values(
                    status=JobStatus.IN_PROGRESS.value,
                    started_at=sa.func.coalesce(jobs.c.started_at, now),
                    updated_at=now,
                )
                .returning(jobs.c.id, jobs.c.params, jobs.c.document)
            )
            payload = {str(r.id): (r.params, r.document) for r in result}
        return rows.claimed_of(claimed, payload)

    async def _claim_executions(
        self, conn: AsyncConnection, tenant_id: str, req: ClaimRequest
    ) -> list[Execution]:
        """Pick and lease up to `req.max` due, queued executions in one statement."""
        conds = [
            executions.c.tenant_id == tenant_id,
            executions.c.status == ES.QUEUED.value,
            executions.c.available_at <= self._now(),
        ]
        if not req.all_queues:
            conds.append(executions.c.queue.in_(req.queues))
        if req.job_ids is not None:
            conds.append(executions.c.job_id.in_(req.job_ids))
        if req.types:
            conds.append(executions.c.type.in_(req.types))
        if req.targets is not None:
            conds.append(executions.c.target.in_(req.targets))
        if req.expected_version is not None:
            conds.append(executions.c.version == req.expected_version)
        picked = (
            sa.select(executions.c.job_id, executions.c.execution_number)
            .where(*conds)
            .order_by(executions.c.priority.desc(), executions.c.available_at, executions.c.job_id)
            .limit(req.max)
            .with_for_update(skip_locked=True)
            .cte("picked")
        )
        of_job = jobs.c.id == executions.c.job_id
        timeout = sa.select(jobs.c.timeout_s).where(of_job).scalar_subquery()
        # The job's own lease length, set at create time, wins over the claim's.
        lease = sa.func.coalesce(
            sa.select(jobs.c.lease_s).where(of_job).scalar_subquery(), req.lease_s
        )
        now = self._now()
        stmt = (
            sa.update(executions)
            .where(
                executions.c.job_id == picked.c.job_id,
                executions.c.execution_number == picked.c.execution_number,
                executions.c.status == ES.QUEUED.value,
            )
            .values(
                status=ES.IN_PROGRESS.value,
                version=executions.c.version + 1,
                started_at=now,
                last_updated_at=now,
                lease_s=lease,
                lease_expires_at=self._now_plus(lease),
                timeout_at=self._now_plus(timeout),
                worker_id=req.worker.id,
                holder=req.holder,
                hostname=req.worker.hostname,
                pid=req.worker.pid,
                **({} if req.status_details is None else {"status_details": req.status_details}),
            )
            .returning(executions)
        )
        result = await conn.execute(stmt)
        claimed = [rows.execution_from(r) for r in result.mappings()]
        claimed.sort(key=lambda x: (-x.priority, x.available_at, x.job_id))
        return claimed

    async def execution_claim_with_kills(
        self, tenant_id: str, req: ClaimRequest
    ) -> tuple[list[ClaimedExecution], list[tuple[str, int]]]:
        """The kill orders waiting for the claim's worker, then the claim."""
        kills = await self.execution_kill_orders(tenant_id, req.worker.id) if req.worker.id else []
        return await self.execution_claim(tenant_id, req), kills

    async def execution_kill_orders(self, tenant_id: str, worker_id: str) -> list[tuple[str, int]]:
        """The running executions `worker_id` holds whose jobs have a kill order waiting."""
        stmt = (
            sa.select(executions.c.job_id, executions.c.execution_number)
            .select_from(jobs)
            .join(executions, executions.c.job_id == jobs.c.id)
            .where(
                jobs.c.tenant_id == tenant_id,
                sa.text(pending_kill("jobs")),  # as `ix_jobs_kill_pending` has it: it is used
                executions.c.status == ES.IN_PROGRESS.value,
                executions.c.worker_id == worker_id,
            )
        )
        async with self._read() as conn:
            return [(str(r.job_id), int(r.execution_number)) for r in await conn.execute(stmt)]

    # worker updates ----------------------------------------------------------------------------
    async def execution_update_many(
        self, tenant_id: str, updates: list[ExecutionUpdate]
    ) -> list[UpdateOutcome]:
        async with self._write() as conn:
            return [await self._update_one(conn, tenant_id, u) for u in updates]

    async def _update_one(
        self, conn: AsyncConnection, tenant_id: str, u: ExecutionUpdate
    ) -> UpdateOutcome:
        now = self._now()
        job_kill = (
            sa.select(jobs.c.kill_requested_at).where(jobs.c.id == executions.c.job_id)
        ).scalar_subquery()
        status = u.status or ES.IN_PROGRESS
        sources = sources_for(status, Actor.WORKER)  # none for a status only the server sets
        conds: list[sa.ColumnElement[bool]] = [
            executions.c.tenant_id == tenant_id,
            executions.c.job_id == u.job_id,
            executions.c.execution_number == u.execution_number,
            executions.c.status.in_([s.value for s in sources]),
            executions.c.lease_expires_at > now,
        ]
        if u.expected_version is not None:
            conds.append(executions.c.version == u.expected_version)
        if u.worker_id is not None:
            conds.append(executions.c.worker_id == u.worker_id)  # only the lease holder writes
        if u.holder is not None:
            conds.append(executions.c.holder == u.holder)  # nor another key's executions
        if u.status is ES.CANCELED:
            conds.append(job_kill.is_not(None))  # canceled only answers a kill order
        if u.status is ES.QUEUED:
            return await self._hand_back(conn, tenant_id, u, conds, job_kill)
        values: dict[str, Any] = {
            "version": executions.c.version + 1,
            "last_updated_at": now,
        }
        terminal = status in TERMINAL_EXECUTION
        if terminal:
            values.update(status=status.value, completed_at=now, lease_expires_at=None)
        else:
            lease = u.lease_s if u.lease_s is not None else executions.c.lease_s
            values["lease_expires_at"] = self._now_plus(lease)
            if u.lease_s is not None:
                values["lease_s"] = u.lease_s
        if u.status_details is not None:
            values["status_details"] = u.status_details
        if u.exit_code is not None:
            values["exit_code"] = u.exit_code
        if u.pid is not None:
            values["pid"] = u.pid
        if u.hostname is not None:
            values["hostname"] = u.hostname
        result = await conn.execute(
            sa.update(executions)
            .where(*conds)
            .values(**values)
            .returning(executions, job_kill.label("kill_requested_at"))
        )
        row = result.mappings().first()
        if row is None:
            return await self._refusal(conn, tenant_id, u)
        execution = rows.execution_from(row)
        cancel_requested = row["kill_requested_at"] is not None
        if u.follows():
            await self._write_follow(conn, execution, u)
        if terminal:
            await self._finish_job(conn, execution, result=u.result, error=u.error)
        elif u.result is not None or u.error is not None:
            await self._write_job_outcome(conn, execution, u.result, u.error)
        return UpdateOutcome(execution=execution, applied=True, cancel_requested=cancel_requested)

    async def _write_follow(self, conn: AsyncConnection, ex: Execution, u: ExecutionUpdate) -> None:
        """Steps, progress and counters of an applied update, onto its job: counters are added
        in SQL (two workers adding 1,000 each end at 2,000); steps are merged under the row's
        lock, stamped with the database time of the update."""
        values: dict[str, Any] = {"updated_at": self._now()}
        for name, n in (u.counters or {}).items():
            values[name] = jobs.c[name] + n
        if u.progress is not None:
            values["progress"] = u.progress
        if u.steps is not None:
            current = (
                await conn.execute(
                    sa.select(jobs.c.steps).where(jobs.c.id == ex.job_id).with_for_update()
                )
            ).scalar_one()
            values["steps"] = merge_steps(current or [], u.steps, ex.last_updated_at)
        await conn.execute(
            sa.update(jobs)
            .where(jobs.c.id == ex.job_id, jobs.c.attempts == ex.execution_number)
            .values(**values)
        )

    async def _hand_back(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        u: ExecutionUpdate,
        conds: list[sa.ColumnElement[bool]],
        job_kill: sa.ScalarSelect[Any],
    ) -> UpdateOutcome:
        """Put a held execution back in the queue, claimable at once, without using an attempt.

        A job with a kill order is not queued again: handing it back confirms the kill.
        """
        now = self._now()
        row = (
            (
                await conn.execute(
                    sa.update(executions)
                    .where(*conds, job_kill.is_(None))
                    .values(
                        status=ES.QUEUED.value,
                        version=executions.c.version + 1,
                        last_updated_at=now,
                        available_at=now,
                        started_at=None,
                        lease_s=None,
                        lease_expires_at=None,
                        timeout_at=None,
                        worker_id=None,
                        holder=None,
                        hostname=None,
                        pid=None,
                    )
                    .returning(executions)
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            refusal = await self._refusal(conn, tenant_id, u)
            if refusal.cancel_requested and refusal.error_code == "kill_order":
                return await self._update_one(conn, tenant_id, replace(u, status=ES.CANCELED))
            return refusal
        execution = rows.execution_from(row)
        await conn.execute(
            sa.update(jobs)
            .where(
                jobs.c.id == execution.job_id,
                jobs.c.attempts == execution.execution_number,
                jobs.c.status == JobStatus.IN_PROGRESS.value,
            )
            .values(status=JobStatus.QUEUED.value, updated_at=now)
        )
        return UpdateOutcome(execution=execution, applied=True)

    async def _refusal(
        self, conn: AsyncConnection, tenant_id: str, u: ExecutionUpdate
    ) -> UpdateOutcome:
        """Say why an update missed, with the execution as it is now."""
        r = (
            (
                await conn.execute(
                    sa.select(executions, jobs.c.kill_requested_at)
                    .join(jobs, jobs.c.id == executions.c.job_id)
                    .where(
                        executions.c.tenant_id == tenant_id,
                        executions.c.job_id == u.job_id,
                        executions.c.execution_number == u.execution_number,
                    )
                )
            )
            .mappings()
            .first()
        )
        if r is None:
            return UpdateOutcome(None, False, error_code="not_found", message="no such execution")
        current = rows.execution_from(r)
        cancel = r["kill_requested_at"] is not None
        if current.status in TERMINAL_EXECUTION:
            why = f"execution is already {current.status.value}"
            code = "terminal_state"
        elif current.status is ES.QUEUED:
            why, code = "execution has not been claimed", "not_claimed"
        elif (u.worker_id is not None and current.worker_id != u.worker_id) or (
            u.holder is not None and r["holder"] != u.holder
        ):
            why, code = "another worker holds this execution", "not_lease_holder"
        elif u.expected_version is not None and current.version != u.expected_version:
            why = f"version mismatch: expected {u.expected_version}, current {current.version}"
            code = "version_mismatch"
        elif u.status is ES.CANCELED and not cancel:
            why, code = "canceled may only answer a kill order", "invalid_transition"
        elif u.status is ES.QUEUED and cancel and current.lease_expires_at is not None:
            why, code = "a kill order waits: report canceled", "kill_order"
        elif u.status is not None and not can_transition(current.status, u.status, Actor.WORKER):
            why, code = f"a worker may not report {u.status.value}", "invalid_transition"
        else:
            why, code = "lease expired", "lease_expired"
        return UpdateOutcome(current, False, cancel, error_code=code, message=why)

    async def _write_job_outcome(
        self, conn: AsyncConnection, ex: Execution, result: Any, error: Any
    ) -> None:
        values: dict[str, Any] = {"updated_at": self._now()}
        if result is not None:
            values["result"] = result
        if error is not None:
            values["error"] = error
        await conn.execute(
            sa.update(jobs)
            .where(jobs.c.id == ex.job_id, jobs.c.attempts == ex.execution_number)
            .values(**values)
        )

    async def _finish_job(
        self,
        conn: AsyncConnection,
        ex: Execution,
        result: Any = None,
        error: Any = None,
    ) -> bool:
        """Carry a terminal execution to its job: retry it, or end the job with the same status.

        Answers True when a new execution was queued. The job row is written only while this
        execution is still its latest (`attempts` = its number): one conditional UPDATE.
        """
        job = (
            (
                await conn.execute(
                    sa.select(
                        jobs.c.id,
                        jobs.c.tenant_id,
                        jobs.c.queue,
                        jobs.c.type,
                        jobs.c.priority,
                        jobs.c.max_attempts,
                        jobs.c.backoff_base_s,
                        jobs.c.backoff_max_s,
                        jobs.c.kill_requested_at,
                    ).where(jobs.c.id == ex.job_id)
                )
            )
            .mappings()
            .one()
        )
        now = self._now()
        policy = RetryPolicy(job["max_attempts"], job["backoff_base_s"], job["backoff_max_s"])
        values: dict[str, Any] = {"updated_at": now}
        if result is not None:
            values["result"] = result
        if error is not None:
            values["error"] = error
        retry = (
            ex.status in RETRIABLE
            and job["kill_requested_at"] is None
            and policy.attempts_left(ex.execution_number)
        )
        where = (jobs.c.id == ex.job_id, jobs.c.attempts == ex.execution_number)
        if retry:
            values.update(status=JobStatus.QUEUED.value, attempts=ex.execution_number + 1)
            hit = await conn.execute(sa.update(jobs).where(*where).values(**values))
            if hit.rowcount:
                await self._insert_execution(
                    conn, job, ex.execution_number + 1, policy.delay_s(ex.execution_number)
                )
                return True
            return False
        values.update(status=job_status_for(ex.status).value, completed_at=now)
        await conn.execute(sa.update(jobs).where(*where).values(**values))
        return False

    # deadlines --------------------------------------------------------------------------------
    async def sweep(self) -> SweepResult:
        out = SweepResult()
        if not await self._sweep_due():
            return out
        async with self._write() as conn:
            now = self._now()
            for deadline in (executions.c.lease_expires_at, executions.c.timeout_at):
                expired = await self._expire(conn, deadline)
                for ex, killed in expired:
                    out.timed_out += 0 if killed else 1
                    out.ended.append(ex)
                    if await self._finish_job(conn, ex):
                        out.requeued.add((ex.tenant_id, ex.queue))
            due = await conn.execute(
                sa.update(jobs)
                .where(status_in([JobStatus.SCHEDULED.value]), jobs.c.scheduled_at <= now)
                .values(status=JobStatus.QUEUED.value, updated_at=now)
                .returning(jobs.c.tenant_id, jobs.c.queue)
            )
            for r in due:
                out.scheduled_due += 1
                out.requeued.add((str(r.tenant_id), r.queue))
        return out

    async def _sweep_due(self) -> bool:
        """Whether a lease, an in-progress timeout or a schedule is due. Nearly every sweep
        finds nothing, and a read spares it the write transaction (on SQLite, the one write
        lock, twice a second); what falls due after the read waits for the next sweep."""
        now = self._now()
        running = executions.c.status == ES.IN_PROGRESS.value
        due = sa.select(
            sa.or_(
                sa.exists().where(running, executions.c.lease_expires_at < now),
                sa.exists().where(
                    running, executions.c.timeout_at.is_not(None), executions.c.timeout_at < now
                ),
                sa.exists().where(
                    status_in([JobStatus.SCHEDULED.value]), jobs.c.scheduled_at <= now
                ),
            )
        )
        async with self._read() as conn:
            return bool((await conn.execute(due)).scalar())

    async def _expire(
        self, conn: AsyncConnection, deadline: sa.Column[Any]
    ) -> list[tuple[Execution, bool]]:
        """End in-progress executions past `deadline`.

        They end canceled when a kill order waits for them, else timed_out.
        """
        now = self._now()
        picked = (
            sa.select(executions.c.job_id)
            .where(executions.c.status == ES.IN_PROGRESS.value, deadline < now)
            .limit(SWEEP_BATCH)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        killed = (
            sa.select(jobs.c.kill_requested_at).where(jobs.c.id == executions.c.job_id)
        ).scalar_subquery()
        result = await conn.execute(
            sa.update(executions)
            .where(
                executions.c.job_id.in_(picked),
                executions.c.status == ES.IN_PROGRESS.value,
                deadline < now,
            )
            .values(
                status=sa.case((killed.is_not(None), ES.CANCELED.value), else_=ES.TIMED_OUT.value),
                version=executions.c.version + 1,
                completed_at=now,
                last_updated_at=now,
                lease_expires_at=None,
            )
            .returning(executions)
        )
        out = []
        for r in result.mappings():
            ex = rows.execution_from(r)
            out.append((ex, ex.status is ES.CANCELED))
        return out
