"""Short ways to bring a store into a state: jobs inserted, claimed, reported on.

Everything goes through the Store protocol except `set_counters` (no store operation writes
counters yet, and the list filters on them still need rows to find) and `report_row_by_row`
(the general update path, which the bulk path is compared with).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from jobyard.domain.entities import (
    ClaimedExecution,
    ClaimRequest,
    Execution,
    ExecutionUpdate,
    Job,
    KillOrder,
    NewJob,
    UpdateOutcome,
    WorkerIdentity,
)
from jobyard.domain.states import ExecutionStatus
from jobyard.store import Store
from jobyard.store.execution_queries import ExecutionQueries
from jobyard.store.sql_store import SqlStoreBase
from jobyard.store.tables import jobs


async def add_jobs(store: Store, tenant_id: str, n: int, **fields: Any) -> list[Job]:
    created = await store.job_insert_many(
        tenant_id, None, [(NewJob(**{"type": "t", **fields}), None) for _ in range(n)]
    )
    assert all(is_new for _, is_new in created)
    return [job for job, _ in created]


async def add_job(store: Store, tenant_id: str, **fields: Any) -> Job:
    (job,) = await add_jobs(store, tenant_id, 1, **fields)
    return job


async def claim(
    store: Store,
    tenant_id: str,
    queues: tuple[str, ...] = ("default",),
    *,
    max: int = 1,
    lease_s: int = 30,
    types: list[str] | None = None,
    worker: WorkerIdentity | None = None,
) -> list[ClaimedExecution]:
    req = ClaimRequest(
        queues=list(queues),
        types=types,
        max=max,
        lease_s=lease_s,
        worker=worker or WorkerIdentity(),
    )
    return await store.execution_claim(tenant_id, req)


async def claim_one(store: Store, tenant_id: str, **kwargs: Any) -> Execution:
    (claimed,) = await claim(store, tenant_id, **kwargs)
    return claimed.execution


async def report(
    store: Store,
    tenant_id: str,
    ex: Execution,
    status: ExecutionStatus | None = None,
    **fields: Any,
) -> UpdateOutcome:
    """One worker update on `ex`, by default fenced on the version the worker last saw."""
    fields.setdefault("expected_version", ex.version)
    update = ExecutionUpdate(ex.job_id, ex.execution_number, status=status, **fields)
    (outcome,) = await store.execution_update_many(tenant_id, [update])
    return outcome


async def report_row_by_row(
    store: Store, tenant_id: str, updates: list[ExecutionUpdate]
) -> list[UpdateOutcome]:
    """The same updates through the general path alone, a few statements per row: the
    behaviour a store's bulk path must match."""
    assert isinstance(store, ExecutionQueries)
    return await ExecutionQueries.execution_update_many(store, tenant_id, updates)


async def current(store: Store, tenant_id: str, job_id: str) -> Job:
    job = await store.job_get(tenant_id, job_id)
    assert job is not None
    return job


def kill_order(now: datetime, *, force: bool = False, reason: str | None = "stop") -> KillOrder:
    return KillOrder(requested_at=now, requested_by="admin-key", force=force, reason=reason)


async def sleep_past(store: Store, deadline: datetime | None) -> None:
    """Wait until the database clock has passed `deadline`, by as little as possible."""
    assert deadline is not None
    await asyncio.sleep(max((deadline - await store.now()).total_seconds(), 0) + 0.05)
    assert await store.now() > deadline


async def set_counters(store: Store, job_id: str, **counters: int) -> None:
    assert isinstance(store, SqlStoreBase)
    async with store.engine.begin() as conn:
        await conn.execute(sa.update(jobs).where(jobs.c.id == job_id).values(**counters))
