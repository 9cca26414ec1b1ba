"""SQLite's writes: queued on the one writing connection, back to back, and a transaction
through SQLAlchemy never has another write inside it."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from jobyard.domain.entities import ExecutionUpdate, WorkerIdentity
from jobyard.domain.states import ExecutionStatus, JobStatus
from jobyard.store.sqlite import SqliteStore
from tests.store.builders import add_jobs, claim, current, kill_order

W1 = WorkerIdentity(id="w-1")


async def test_writes_queued_together_each_commit_whole(sqlite_store: SqliteStore) -> None:
    """Creates, claims and ends (one trip each) queued while cancels (SQLAlchemy's
    transactions of several trips) run: all of them commit, and each is whole."""
    store = sqlite_store
    tenant_id = (await store.tenant_create("acme")).id
    made = await add_jobs(store, tenant_id, 60)
    running = [c.execution for c in await claim(store, tenant_id, max=40, worker=W1)]
    assert len(running) == 40
    to_end, to_cancel = running[:30], running[30:]
    queued = [j for j in made if j.id not in {x.job_id for x in running}]

    now = await store.now()
    ends = [
        store.execution_update_many(
            tenant_id,
            [ExecutionUpdate(x.job_id, 1, ExecutionStatus.SUCCEEDED, worker_id=W1.id)],
        )
        for x in to_end
    ]
    cancels = [store.job_cancel(tenant_id, j.id, kill_order(now)) for j in queued[:10]]
    kills = [store.job_cancel(tenant_id, x.job_id, kill_order(now)) for x in to_cancel]
    creates = [add_jobs(store, tenant_id, 5) for _ in range(10)]
    claims = [claim(store, tenant_id, max=2, worker=W1) for _ in range(5)]
    ended, _, _, created, claimed = await asyncio.gather(
        asyncio.gather(*ends),
        asyncio.gather(*cancels),
        asyncio.gather(*kills),
        asyncio.gather(*creates),
        asyncio.gather(*claims),
    )

    assert all(o.applied for (o,) in ended)
    for x in to_end:
        assert (await current(store, tenant_id, x.job_id)).status is JobStatus.SUCCEEDED
    for j in queued[:10]:
        assert (await current(store, tenant_id, j.id)).status is JobStatus.CANCELED
    for x in to_cancel:
        assert (await current(store, tenant_id, x.job_id)).kill_order is not None
    assert sum(len(batch) for batch in created) == 50
    leased = {c.execution.job_id for batch in claimed for c in batch}
    assert len(leased) == sum(len(batch) for batch in claimed) == 10


async def test_a_write_that_fails_leaves_nothing_and_the_next_one_runs(
    sqlite_store: SqliteStore,
) -> None:
    """A write that raises on the writing connection's thread is rolled back whole, and the
    connection goes on to the next one."""
    store = sqlite_store
    tenant_id = (await store.tenant_create("acme")).id
    (job,) = await add_jobs(store, tenant_id, 1, idempotency_key="k")

    def failing(db: sqlite3.Connection) -> None:
        db.execute("UPDATE jobs SET priority = 7")
        raise RuntimeError("half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        await store._write_trip(failing)
    assert (await current(store, tenant_id, job.id)).priority == job.priority
    (again,) = await add_jobs(store, tenant_id, 1)
    assert (await current(store, tenant_id, again.id)).status is JobStatus.QUEUED
