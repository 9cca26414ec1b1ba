"""Job operations: insert (with idempotency), get, list with filters, cancel, retry."""

from __future__ import annotations

from abc import abstractmethod
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from jobyard.domain.entities import Execution, Job, KillOrder, NewJob
from jobyard.domain.errors import Conflict, IdempotencyConflict, NotFound
from jobyard.domain.filters import JobFilter
from jobyard.domain.ids import new_id
from jobyard.domain.states import (
    MANUALLY_RETRIABLE,
    TERMINAL_JOB,
    ExecutionStatus,
    JobStatus,
)
from jobyard.domain.steps import new_step
from jobyard.store import rows
from jobyard.store.sql_store import SqlStoreBase
from jobyard.store.tables import executions, fleet_jobs, job_keys, jobs, status_in

ES = ExecutionStatus

_latest = executions.alias("latest")


def _build_job_with_latest() -> sa.Select[Any]:
    cols = [c.label(rows.EXECUTION_PREFIX + c.name) for c in _latest.c]
    return sa.select(jobs, *cols).select_from(
        jobs.outerjoin(
            _latest,
            sa.and_(_latest.c.job_id == jobs.c.id, _latest.c.execution_number == jobs.c.attempts),
        )
    )


_JOB_WITH_LATEST = _build_job_with_latest()


def _job_with_latest() -> sa.Select[Any]:
    """A job joined with its latest execution, whose columns are prefixed `x_` (built once:
    statements are immutable, and callers add their conditions to a copy)."""
    return _JOB_WITH_LATEST


# Jobs in these statuses have an execution running, or are a fleet's parent (which has none).
_RUNNING = frozenset({JobStatus.IN_PROGRESS, JobStatus.CANCELING})


def _running_jobs(tenant_id: str) -> sa.CompoundSelect[tuple[str]]:
    """The ids of the tenant's jobs that may be in a `_RUNNING` status: those with a running
    execution (the partial lease index holds only those: a few per worker) and fleet parents.
    The job row's indexes hold its stage, where queued and running jobs are one (migration
    0014): without this, a filter on running jobs would read the whole queue behind them. (The
    planner starts from this set where the table's statistics say it is the smaller, as they
    do once autovacuum has seen a queue that long.)"""
    return sa.union_all(
        sa.select(executions.c.job_id).where(
            executions.c.status == ES.IN_PROGRESS.value, executions.c.tenant_id == tenant_id
        ),
        sa.select(fleet_jobs.c.id).where(fleet_jobs.c.tenant_id == tenant_id),
    )


def _job_and_latest(row: Any) -> Job:
    latest = rows.execution_from(row, rows.EXECUTION_PREFIX) if row["x_job_id"] else None
    return rows.job_from(row, latest)


class JobQueries(SqlStoreBase):
    @abstractmethod
    def _label_condition(self, key: str, value: str) -> sa.ColumnElement[bool]:
        """`labels[key] == value` in the backend's JSON dialect, using its index if it has one."""

    async def job_insert_many(
        self, tenant_id: str, owner: str | None, jobs_in: list[tuple[NewJob, str | None]]
    ) -> list[tuple[Job, bool]]:
        try:
            return await self._job_insert_many(tenant_id, owner, jobs_in)
        except IntegrityError:
            # A concurrent request inserted one of our idempotency keys first: now it is found.
            return await self._job_insert_many(tenant_id, owner, jobs_in)

    async def _job_insert_many(
        self, tenant_id: str, owner: str | None, jobs_in: list[tuple[NewJob, str | None]]
    ) -> list[tuple[Job, bool]]:
        keys = [j.idempotency_key for j, _ in jobs_in if j.idempotency_key]
        async with self._write() as conn:
            known: dict[str, tuple[Job | int, str | None]] = {}
            if keys:
                result = await conn.execute(
                    _job_with_latest()
                    .add_columns(jobs.c.request_hash.label("stored_hash"))
                    .join(job_keys, job_keys.c.job_id == jobs.c.id)
                    .where(job_keys.c.tenant_id == tenant_id, job_keys.c.idempotency_key.in_(keys))
                )
                for r in result.mappings():
                    known[r["idempotency_key"]] = (_job_and_latest(r), r["stored_hash"])
            plan: list[tuple[Job | int, bool]] = []
            to_insert: list[tuple[NewJob, str | None]] = []
            for new, req_hash in jobs_in:
                key = new.idempotency_key
                if key and key in known:
                    target, stored_hash = known[key]
                    if stored_hash != req_hash:
                        raise IdempotencyConflict(idempotency_key=key)
                    plan.append((target, False))
                    continue
                if key:
                    known[key] = (len(to_insert), req_hash)
                plan.append((len(to_insert), True))
                to_insert.append((new, req_hash))
            inserted = await self._insert_rows(conn, tenant_id, owner, to_insert)
        return [
            (inserted[target] if isinstance(target, int) else target, created)
            for target, created in plan
        ]

    @staticmethod
    def _job_params(
        tenant_id: str, owner: str | None, new: NewJob, req_hash: str | None
    ) -> dict[str, Any]:
        return {
            "id": new_id(),
            "tenant_id": tenant_id,
            "type": new.type,
            "queue": new.queue,
            "priority": new.priority,
            "params": new.params,
            "document": new.document,
            "labels": new.labels,
            "parent_id": new.parent_id,
            "owner": owner,
            "collaborators": new.collaborators,
            "scheduled_at": new.scheduled_at,
            "due_at": new.scheduled_at,
            "max_attempts": new.max_attempts,
            "backoff_base_s": new.backoff_base_s,
            "backoff_max_s": new.backoff_max_s,
            "timeout_s": new.timeout_s,
            "lease_s": new.lease_s,
            "idempotency_key": new.idempotency_key,
            "request_hash": req_hash,
            "targets": new.targets,
            "steps": [new_step(s) for s in new.steps],
        }

    @cached_property
    def _insert_statements(self) -> tuple[sa.Insert, sa.Insert]:
        """The job and execution inserts of `_insert_rows`, built once (with their cache keys)
        where the clock is the database's `now()`; SQLite's clock is a value bound at build
        time, so there they are built for each call."""
        return self._build_inserts()

    def _inserts(self) -> tuple[sa.Insert, sa.Insert]:
        if self.dialect == "postgresql":
            return self._insert_statements
        return self._build_inserts()

    def _build_inserts(self) -> tuple[sa.Insert, sa.Insert]:
        now = self._now()
        sched = sa.bindparam("due_at", type_=jobs.c.scheduled_at.type)
        due = sa.func.coalesce(sched, now) <= now
        job_stmt = (
            sa.insert(jobs)
            .values(
                status=sa.case((due, JobStatus.QUEUED.value), else_=JobStatus.SCHEDULED.value),
                created_at=now,
                updated_at=now,
                attempts=1,
            )
            .returning(
                jobs.c.status, jobs.c.created_at, jobs.c.scheduled_at, sort_by_parameter_order=True
            )
        )
        ex_stmt = sa.insert(executions).values(
            execution_number=1,
            status=ES.QUEUED.value,
            version=1,
            status_details={},
            last_updated_at=now,
        )
        return job_stmt, ex_stmt

    async def _insert_rows(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        owner: str | None,
        jobs_in: list[tuple[NewJob, str | None]],
    ) -> list[Job]:
        """Jobs (each with its request hash, if any), their first executions and their keys;
        only what the database chose is read back (`rows.job_made`)."""
        if not jobs_in:
            return []
        job_stmt, ex_stmt = self._inserts()
        params = [self._job_params(tenant_id, owner, new, req_hash) for new, req_hash in jobs_in]
        result = await conn.execute(job_stmt, params)
        made = [
            rows.job_made(tenant_id, owner, p["id"], new, p["steps"], r)
            for (new, _), p, r in zip(jobs_in, params, result.mappings(), strict=True)
        ]
        ex_params = [
            {
                "job_id": job.id,
                "tenant_id": tenant_id,
                "queue": job.queue,
                "type": job.type,
                "priority": job.priority,
                "available_at": x.available_at,
                "queued_at": x.queued_at,
                # a job for one thing: its executions are that thing's (as a device pulls them)
                "target": x.target,
            }
            for job in made
            if (x := job.latest_execution) is not None
        ]
        await conn.execute(ex_stmt, ex_params)
        keyed = [
            {"tenant_id": tenant_id, "idempotency_key": key, "job_id": job.id}
            for job in made
            if (key := job.idempotency_key) is not None
        ]
        if keyed:
            await conn.execute(sa.insert(job_keys), keyed)
        return made

    async def job_get(self, tenant_id: str, job_id: str) -> Job | None:
        async with self._read() as conn:
            return await self._job_get(conn, tenant_id, job_id)

    async def _job_get(self, conn: AsyncConnection, tenant_id: str, job_id: str) -> Job | None:
        r = (
            (
                await conn.execute(
                    _job_with_latest().where(jobs.c.tenant_id == tenant_id, jobs.c.id == job_id)
                )
            )
            .mappings()
            .first()
        )
        return _job_and_latest(r) if r else None

    async def job_list(self, tenant_id: str, flt: JobFilter) -> list[Job]:
        conds = self._list_conditions(tenant_id, flt)
        # Each job comes with its latest execution, as `job_get` answers it: one shape everywhere.
        stmt = _job_with_latest().where(*conds).order_by(jobs.c.id.desc()).limit(flt.limit)
        async with self._read() as conn:
            return [_job_and_latest(r) for r in (await conn.execute(stmt)).mappings()]

    def _list_conditions(self, tenant_id: str, flt: JobFilter) -> list[sa.ColumnElement[bool]]:
        """The conditions of `flt` on the jobs table, the tenant's first."""
        conds: list[sa.ColumnElement[bool]] = [jobs.c.tenant_id == tenant_id]
        if flt.statuses:
            conds.append(status_in(s.value for s in flt.statuses))
            if set(flt.statuses) <= _RUNNING:
                conds.append(jobs.c.id.in_(_running_jobs(tenant_id)))
        if flt.types:
            conds.append(jobs.c.type.in_(flt.types))
        if flt.queues:
            conds.append(jobs.c.queue.in_(flt.queues))
        if flt.parent_ids:
            conds.append(jobs.c.parent_id.in_(flt.parent_ids))
        if flt.ids:
            conds.append(jobs.c.id.in_(flt.ids))
        for key, value in flt.labels.items():
            conds.append(self._label_condition(key, value))
        for column, bound, op in (
            (jobs.c.created_at, flt.created_at_gte, "ge"),
            (jobs.c.created_at, flt.created_at_lte, "le"),
            (jobs.c.updated_at, flt.updated_at_gte, "ge"),
            (jobs.c.updated_at, flt.updated_at_lte, "le"),
        ):
            if bound is not None:
                conds.append(column >= bound if op == "ge" else column <= bound)
        for name, n in flt.counters_gte.items():
            conds.append(jobs.c[name] >= n)
        for name, n in flt.counters_lte.items():
            conds.append(jobs.c[name] <= n)
        if flt.before_id:
            conds.append(jobs.c.id < flt.before_id)
        return conds

    async def execution_list(self, tenant_id: str, job_id: str) -> list[Execution]:
        stmt = (
            sa.select(executions)
            .where(executions.c.tenant_id == tenant_id, executions.c.job_id == job_id)
            .order_by(executions.c.execution_number)
        )
        async with self._read() as conn:
            return [rows.execution_from(r) for r in (await conn.execute(stmt)).mappings()]

    # cancel and retry ------------------------------------------------------------------------
    async def job_cancel(
        self,
        tenant_id: str,
        job_id: str,
        order: KillOrder,
        *,
        expected_version: int | None = None,
    ) -> Job:
        kill = {
            "kill_requested_at": order.requested_at,
            "kill_requested_by": order.requested_by,
            "kill_force": order.force,
            "kill_reason": order.reason,
        }
        version = expected_version
        for _ in range(3):  # a claim may move the job between our conditional writes
            async with self._write() as conn:
                if await self._cancel_execution(conn, tenant_id, job_id, ES.QUEUED, kill, version):
                    break
                if order.force and await self._cancel_execution(
                    conn, tenant_id, job_id, ES.IN_PROGRESS, kill, version
                ):
                    break
                conds = [
                    jobs.c.tenant_id == tenant_id,
                    jobs.c.id == job_id,
                    jobs.c.status.in_([JobStatus.IN_PROGRESS.value, JobStatus.CANCELING.value]),
                    jobs.c.kill_requested_at.is_(None),
                ]
                if version is not None:  # the latest execution still has the version expected
                    conds.append(
                        sa.exists().where(
                            executions.c.job_id == jobs.c.id,
                            executions.c.execution_number == jobs.c.attempts,
                            executions.c.version == version,
                        )
                    )
                hit = await conn.execute(
                    sa.update(jobs)
                    .where(*conds)
                    .values(status=JobStatus.CANCELING.value, updated_at=self._now(), **kill)
                    .returning(jobs.c.id)
                )
                if hit.first() is not None:
                    break
                job = await self._job_get(conn, tenant_id, job_id)
                if job is None:
                    raise NotFound("job not found", job_id=job_id)
                latest = job.latest_execution
                if version is not None and latest is not None and latest.version != version:
                    raise Conflict(
                        f"version mismatch: expected {version}, current {latest.version}",
                        reason="version_mismatch",
                        execution=latest,
                    )
                if job.status in TERMINAL_JOB:
                    raise Conflict(f"job is already {job.status.value}", job=job)
                if job.status is JobStatus.CANCELING:
                    return job  # the kill order stands; asking again changes nothing
        found = await self.job_get(tenant_id, job_id)
        if found is None:
            raise NotFound("job not found", job_id=job_id)
        return found

    async def _cancel_execution(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        job_id: str,
        current: ExecutionStatus,
        kill: dict[str, Any],
        expected_version: int | None = None,
    ) -> bool:
        now = self._now()
        conds = [
            executions.c.tenant_id == tenant_id,
            executions.c.job_id == job_id,
            executions.c.status == current.value,
        ]
        if expected_version is not None:
            conds.append(executions.c.version == expected_version)
        ex = (
            await conn.execute(
                sa.update(executions)
                .where(*conds)
                .values(
                    status=ES.CANCELED.value,
                    version=executions.c.version + 1,
                    completed_at=now,
                    last_updated_at=now,
                    lease_expires_at=None,
                )
                .returning(executions.c.execution_number)
            )
        ).first()
        if ex is None:
            return False
        await conn.execute(
            sa.update(jobs)
            .where(jobs.c.tenant_id == tenant_id, jobs.c.id == job_id)
            .values(status=JobStatus.CANCELED.value, completed_at=now, updated_at=now, **kill)
        )
        return True

    async def job_set_collaborators(
        self, tenant_id: str, job_id: str, collaborators: list[str]
    ) -> Job | None:
        async with self._write() as conn:
            result = await conn.execute(
                sa.update(jobs)
                .where(jobs.c.tenant_id == tenant_id, jobs.c.id == job_id)
                .values(collaborators=collaborators, updated_at=self._now())
            )
            if not result.rowcount:
                return None
            return await self._job_get(conn, tenant_id, job_id)

    async def job_retry(self, tenant_id: str, job_id: str) -> Job:
        async with self._write() as conn:
            now = self._now()
            r = (
                (
                    await conn.execute(
                        sa.update(jobs)
                        .where(
                            jobs.c.tenant_id == tenant_id,
                            jobs.c.id == job_id,
                            jobs.c.status.in_([s.value for s in MANUALLY_RETRIABLE]),
                        )
                        .values(
                            status=JobStatus.QUEUED.value,
                            attempts=jobs.c.attempts + 1,
                            completed_at=None,
                            updated_at=now,
                            kill_requested_at=None,
                            kill_requested_by=None,
                            kill_force=None,
                            kill_reason=None,
                        )
                        .returning(jobs)
                    )
                )
                .mappings()
                .first()
            )
            if r is None:
                job = await self._job_get(conn, tenant_id, job_id)
                if job is None:
                    raise NotFound("job not found", job_id=job_id)
                raise Conflict(f"a job that is {job.status.value} cannot be retried", job=job)
            await self._insert_execution(conn, r, r["attempts"], delay_s=0.0)
            job = await self._job_get(conn, tenant_id, job_id)
        assert job is not None
        return job

    async def _insert_execution(
        self, conn: AsyncConnection, job_row: Any, number: int, delay_s: float
    ) -> None:
        now = self._now()
        await conn.execute(
            sa.insert(executions).values(
                job_id=job_row["id"],
                execution_number=number,
                tenant_id=job_row["tenant_id"],
                status=ES.QUEUED.value,
                version=1,
                queue=job_row["queue"],
                type=job_row["type"],
                priority=job_row["priority"],
                status_details={},
                queued_at=now,
                available_at=self._now_plus(delay_s) if delay_s > 0 else now,
                last_updated_at=now,
                target=sa.select(executions.c.target)
                .where(
                    executions.c.job_id == job_row["id"],
                    executions.c.execution_number == number - 1,
                )
                .scalar_subquery(),  # a retry runs for the same thing
            )
        )
