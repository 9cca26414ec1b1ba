"""Fleet jobs, and the executions of things (the registry itself is in `thing_queries.py`).

A fleet job is written in one transaction: its parent job (which runs nothing: its own
execution is removed at once), one child job per thing, and the `fleet_jobs` row that names it.
Every query is scoped to one tenant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from jobyard.domain.entities import NewJob
from jobyard.domain.errors import Conflict
from jobyard.domain.ids import is_id
from jobyard.domain.states import ExecutionStatus, JobStatus
from jobyard.domain.things import (
    AbortCriterion,
    FailureType,
    FleetJob,
    FleetStatus,
    NewFleetJob,
    ThingExecution,
)
from jobyard.store import rows
from jobyard.store.fleet_changes import FleetChangeQueries, criteria_out, while_in_progress
from jobyard.store.tables import executions, fleet_jobs, job_keys, jobs, log_chunks

ES = ExecutionStatus
SNAPSHOT, CONTINUOUS = "SNAPSHOT", "CONTINUOUS"


def _criteria_in(raw: Any) -> list[AbortCriterion]:
    return [
        AbortCriterion(FailureType(c["failure_type"]), float(c["threshold"]), c["min_executed"])
        for c in raw or []
    ]


def _fleet(r: Any, document: Any = None) -> FleetJob:
    return FleetJob(
        id=str(r["id"]),
        tenant_id=str(r["tenant_id"]),
        name=r["name"],
        status=FleetStatus(r["status"]),
        targets=r["targets"] or [],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        description=r["description"],
        rollout_per_minute=r["rollout_per_minute"],
        abort=_criteria_in(r["abort_criteria"]),
        retry_criteria=r["retry_criteria"] or [],
        timeout_minutes=r["timeout_minutes"],
        force_canceled=r["force_canceled"],
        reason_code=r["reason_code"],
        comment=r["comment"],
        completed_at=r["completed_at"],
        document=document,
        continuous=r["target_selection"] == CONTINUOUS,
    )


class FleetQueries(FleetChangeQueries):
    # fleet jobs ----------------------------------------------------------------------------
    async def fleet_insert(
        self,
        tenant_id: str,
        owner: str | None,
        new: NewFleetJob,
        parent: NewJob,
        children: list[NewJob],
    ) -> FleetJob:
        """The parent, its children and the fleet row, in one transaction; Conflict when the
        tenant has a fleet job of that name."""
        try:
            async with self._write() as conn:
                (parent_job,) = await self._insert_rows(conn, tenant_id, owner, [(parent, None)])
                now = self._now()
                await conn.execute(
                    sa.update(executions)
                    .where(
                        executions.c.tenant_id == tenant_id,
                        executions.c.job_id == parent_job.id,
                        executions.c.status == ES.QUEUED.value,
                    )
                    .values(
                        status=ES.REMOVED.value,
                        version=executions.c.version + 1,
                        completed_at=now,
                        last_updated_at=now,
                    )
                )
                await conn.execute(
                    sa.update(jobs)
                    .where(jobs.c.tenant_id == tenant_id, jobs.c.id == parent_job.id)
                    .values(status=JobStatus.IN_PROGRESS.value, started_at=now, updated_at=now)
                )
                for child in children:
                    child.parent_id = parent_job.id
                await self._insert_rows(conn, tenant_id, owner, [(c, None) for c in children])
                r = (
                    (
                        await conn.execute(
                            sa.insert(fleet_jobs)
                            .values(
                                id=parent_job.id,
                                tenant_id=tenant_id,
                                name=new.name,
                                status=FleetStatus.IN_PROGRESS.value,
                                description=new.description,
                                targets=new.targets,
                                rollout_per_minute=new.rollout_per_minute,
                                abort_criteria=criteria_out(new.abort) or None,
                                retry_criteria=new.retry_criteria or None,
                                timeout_minutes=new.timeout_minutes,
                                target_selection=CONTINUOUS if new.continuous else SNAPSHOT,
                                created_at=parent_job.created_at,  # one job, one birth time
                                updated_at=now,
                            )
                            .returning(fleet_jobs)
                        )
                    )
                    .mappings()
                    .one()
                )
        except IntegrityError:
            raise Conflict("a job with this id exists", field="jobId") from None
        return _fleet(r, parent.document)

    async def fleet_get(self, tenant_id: str, name: str) -> FleetJob | None:
        async with self._read() as conn:
            r = (
                (
                    await conn.execute(
                        sa.select(fleet_jobs, jobs.c.document)
                        .join(jobs, jobs.c.id == fleet_jobs.c.id)
                        .where(fleet_jobs.c.tenant_id == tenant_id, fleet_jobs.c.name == name)
                    )
                )
                .mappings()
                .first()
            )
            if r is None:
                return None
            fleet = _fleet(r, r["document"])
            fleet.counts = await self._fleet_counts(conn, tenant_id, fleet.id)
        return fleet

    async def fleet_names_of(self, tenant_id: str, job_ids: Sequence[str]) -> list[str]:
        """The names of the fleet jobs some of `job_ids` are children of (one query)."""
        if not job_ids:
            return []
        stmt = (
            sa.select(fleet_jobs.c.name)
            .distinct()
            .select_from(jobs.join(fleet_jobs, fleet_jobs.c.id == jobs.c.parent_id))
            .where(jobs.c.tenant_id == tenant_id, jobs.c.id.in_(list(job_ids)))
            .order_by(fleet_jobs.c.name)
        )
        async with self._read() as conn:
            return [str(r.name) for r in await conn.execute(stmt)]

    async def fleet_list(
        self, tenant_id: str, status: FleetStatus | None, after: str | None, limit: int
    ) -> list[FleetJob]:
        """Newest first; `after` is the id of the last one seen."""
        conds = [fleet_jobs.c.tenant_id == tenant_id]
        if status is not None:
            conds.append(fleet_jobs.c.status == status.value)
        if after is not None and is_id(after):
            conds.append(fleet_jobs.c.id < after)
        async with self._read() as conn:
            result = await conn.execute(
                sa.select(fleet_jobs).where(*conds).order_by(fleet_jobs.c.id.desc()).limit(limit)
            )
            return [_fleet(r) for r in result.mappings()]

    async def fleet_continuous(self, tenant_id: str) -> list[FleetJob]:
        """The tenant's continuous fleet jobs in progress (those a thing joining a group may
        concern), with their documents."""
        async with self._read() as conn:
            result = await conn.execute(
                sa.select(fleet_jobs, jobs.c.document)
                .join(jobs, jobs.c.id == fleet_jobs.c.id)
                .where(
                    fleet_jobs.c.tenant_id == tenant_id,
                    fleet_jobs.c.status == FleetStatus.IN_PROGRESS.value,
                    fleet_jobs.c.target_selection == CONTINUOUS,
                )
                .order_by(fleet_jobs.c.id)
            )
            return [_fleet(r, r["document"]) for r in result.mappings()]

    async def fleet_counts(self, tenant_id: str, fleet_id: str) -> dict[ExecutionStatus, int]:
        async with self._read() as conn:
            return await self._fleet_counts(conn, tenant_id, fleet_id)

    async def _fleet_counts(
        self, conn: Any, tenant_id: str, fleet_id: str
    ) -> dict[ExecutionStatus, int]:
        """How many of the fleet job's things stand at each status (their latest execution)."""
        stmt = (
            sa.select(executions.c.status, sa.func.count())
            .select_from(
                jobs.join(
                    executions,
                    sa.and_(
                        executions.c.job_id == jobs.c.id,
                        executions.c.execution_number == jobs.c.attempts,
                    ),
                )
            )
            .where(jobs.c.tenant_id == tenant_id, jobs.c.parent_id == fleet_id)
            .group_by(executions.c.status)
        )
        return {ES(r[0]): int(r[1]) for r in await conn.execute(stmt)}

    async def fleet_set_status(
        self,
        tenant_id: str,
        fleet_id: str,
        status: FleetStatus,
        *,
        force: bool | None = None,
        reason_code: str | None = None,
        comment: str | None = None,
    ) -> bool:
        """Move an in-progress fleet job to `status`, and its parent job with it: one
        conditional write each, in one transaction. False when it was no longer in progress."""
        async with self._write() as conn:
            now = self._now()
            values: dict[str, Any] = {"status": status.value, "updated_at": now}
            if status is FleetStatus.COMPLETED:
                values["completed_at"] = now
            else:
                values.update(force_canceled=force, reason_code=reason_code, comment=comment)
            if not await while_in_progress(conn, tenant_id, fleet_id, values):
                return False
            await conn.execute(
                sa.update(jobs)
                .where(jobs.c.tenant_id == tenant_id, jobs.c.id == fleet_id)
                .values(status=status.value, completed_at=now, updated_at=now)
            )
        return True

    async def fleet_delete(self, tenant_id: str, fleet_id: str) -> None:
        """The fleet job, its parent and children, with their executions, logs and errors."""
        async with self._write() as conn:
            in_family = (
                jobs.c.tenant_id == tenant_id,
                sa.or_(jobs.c.parent_id == fleet_id, jobs.c.id == fleet_id),
            )
            family = sa.select(jobs.c.id).where(*in_family)
            for table in (log_chunks, executions):  # by name: no key to cascade from
                await conn.execute(
                    sa.delete(table).where(
                        table.c.tenant_id == tenant_id, table.c.job_id.in_(family)
                    )
                )
            keys = sa.select(jobs.c.idempotency_key).where(
                *in_family, jobs.c.idempotency_key.is_not(None)
            )
            await conn.execute(
                sa.delete(job_keys).where(
                    job_keys.c.tenant_id == tenant_id, job_keys.c.idempotency_key.in_(keys)
                )
            )
            await conn.execute(
                sa.delete(jobs).where(jobs.c.tenant_id == tenant_id, jobs.c.parent_id == fleet_id)
            )
            await conn.execute(
                sa.delete(jobs).where(jobs.c.tenant_id == tenant_id, jobs.c.id == fleet_id)
            )

    # a thing's executions ------------------------------------------------------------------
    async def thing_executions(
        self,
        tenant_id: str,
        thing: str,
        *,
        job_name: str | None = None,
        fleet_id: str | None = None,
        statuses: list[ExecutionStatus] | None = None,
        latest_only: bool = True,
        execution_number: int | None = None,
        limit: int = 1000,
    ) -> list[ThingExecution]:
        """The executions run for `thing` (or, with `fleet_id` and no thing, for every thing of
        that fleet job), oldest first. A job is named by its fleet job's name or its own id."""
        conds: list[sa.ColumnElement[bool]] = [executions.c.tenant_id == tenant_id]
        if thing:
            conds.append(executions.c.target == thing)
        if fleet_id is not None:
            conds.append(jobs.c.parent_id == fleet_id)
        if job_name is not None:
            named = fleet_jobs.c.name == job_name
            conds.append(sa.or_(named, jobs.c.id == job_name) if is_id(job_name) else named)
        if statuses is not None:
            conds.append(executions.c.status.in_([s.value for s in statuses]))
        if latest_only and execution_number is None:
            conds.append(executions.c.execution_number == jobs.c.attempts)
        if execution_number is not None:
            conds.append(executions.c.execution_number == execution_number)
        stmt = (
            sa.select(
                executions,
                jobs.c.document,
                jobs.c.parent_id,
                fleet_jobs.c.name.label("fleet_name"),
            )
            .select_from(
                executions.join(jobs, jobs.c.id == executions.c.job_id).outerjoin(
                    fleet_jobs, fleet_jobs.c.id == jobs.c.parent_id
                )
            )
            .where(*conds)
            .order_by(executions.c.queued_at, executions.c.job_id, executions.c.execution_number)
            .limit(limit)
        )
        async with self._read() as conn:
            result = await conn.execute(stmt)
            return [
                ThingExecution(
                    execution=rows.execution_from(r),
                    job_name=r["fleet_name"] or str(r["job_id"]),
                    document=r["document"],
                    fleet_id=None if r["fleet_name"] is None else str(r["parent_id"]),
                )
                for r in result.mappings()
            ]
