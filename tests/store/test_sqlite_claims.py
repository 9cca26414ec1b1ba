"""SQLite's claims in fixed statements answer as the general path does, in two statements.

Two tenants of one store get the same jobs; one is claimed through `execution_claim` (the hot
path), the other through the general path alone (`ExecutionQueries.execution_claim`). What each
claim answers, and what the jobs are after, must agree but for the ids and times.
"""

from __future__ import annotations

from typing import Any

from jobyard.domain.entities import ClaimedExecution, ClaimRequest, Job, WorkerIdentity
from jobyard.domain.filters import JobFilter
from jobyard.store.execution_queries import ExecutionQueries
from jobyard.store.sqlite import SqliteStore
from tests.store.builders import add_job, add_jobs, kill_order
from tests.store.test_sqlite_hot_path import statements

W1 = WorkerIdentity(id="w-1", hostname="box", pid=42)


async def _same_jobs(store: SqliteStore, tenant_id: str) -> None:
    """Jobs of every kind a claim tells apart: queues, types, priorities, leases, timeouts."""
    await add_jobs(store, tenant_id, 3, queue="a", type="t1")
    await add_job(store, tenant_id, queue="a", type="t2", priority=5, lease_s=90)
    await add_job(store, tenant_id, queue="b", type="t1", timeout_s=60, params={"n": 1})
    await add_job(store, tenant_id, queue="b", type="t3", document={"steps": ["x"]})
    await add_job(store, tenant_id, queue="c", type="t1", priority=9)


def _seen(claimed: list[ClaimedExecution]) -> list[tuple[Any, ...]]:
    """What a claim answers, without ids and times (which differ between the two tenants)."""
    out = []
    for c in claimed:
        x = c.execution
        lease = None
        if x.lease_expires_at is not None and x.started_at is not None:
            lease = (x.lease_expires_at - x.started_at).total_seconds()
        out.append(
            (
                c.job_type,
                c.params,
                c.document,
                x.queue,
                x.priority,
                x.status.value,
                x.version,
                x.lease_s,
                round(lease or 0),
                x.worker_id,
                x.hostname,
                x.pid,
                x.execution_number,
            )
        )
    return out


CLAIMS = [
    ClaimRequest(queues=["a"], max=2, lease_s=30, worker=W1),
    ClaimRequest(queues=["a", "b"], types=["t1", "t2"], max=10, lease_s=30, worker=W1),
    ClaimRequest(queues=["b", "c"], max=10, lease_s=45, worker=W1, holder="ops"),
    ClaimRequest(queues=["a", "b", "c"], max=10, lease_s=30, worker=W1),
    ClaimRequest(queues=["a"], max=0, lease_s=30, worker=W1),
]


async def test_claims_answer_as_the_general_path_and_leave_the_jobs_alike(
    sqlite_store: SqliteStore,
) -> None:
    store = sqlite_store
    hot = (await store.tenant_create("hot")).id
    general = (await store.tenant_create("general")).id
    for tenant_id in (hot, general):
        await _same_jobs(store, tenant_id)
    for req in CLAIMS:
        by_hot = await store.execution_claim(hot, req)
        by_general = await ExecutionQueries.execution_claim(store, general, req)
        assert _seen(by_hot) == _seen(by_general), req
    for tenant_id in (hot, general):
        assert [c.execution.job_id for c in await store.execution_claim(tenant_id, CLAIMS[3])] == []
    jobs_hot = await _job_states(store, hot)
    jobs_general = await _job_states(store, general)
    assert jobs_hot == jobs_general
    assert all(status == "in_progress" for _, _, status, _ in jobs_hot)
    for job in await _jobs(store, hot):
        assert job.started_at is not None


async def _jobs(store: SqliteStore, tenant_id: str) -> list[Job]:
    return await store.job_list(tenant_id, JobFilter(limit=100))


async def _job_states(store: SqliteStore, tenant_id: str) -> list[tuple[Any, ...]]:
    return sorted(
        (j.type, j.queue, j.status.value, j.attempts) for j in await _jobs(store, tenant_id)
    )


async def test_a_claim_is_two_statements_and_an_empty_one_is_one(
    sqlite_store: SqliteStore,
) -> None:
    store = sqlite_store
    tenant_id = (await store.tenant_create("acme")).id
    other = (await store.tenant_create("globex")).id
    theirs = await add_job(store, other, queue="a")
    await add_jobs(store, tenant_id, 5, queue="a")
    req = ClaimRequest(queues=["a"], max=5, lease_s=30, worker=W1)
    with statements(store) as seen:
        claimed = await store.execution_claim(tenant_id, req)
    assert len(claimed) == 5
    assert [s for s in seen if s.split()[0] in ("UPDATE", "SELECT", "INSERT")] == [
        s for s in seen if s.startswith("UPDATE")
    ]
    assert len([s for s in seen if s.startswith("UPDATE")]) == 2
    with statements(store) as seen:
        assert await store.execution_claim(tenant_id, req) == []
    assert len([s for s in seen if s.startswith("UPDATE")]) == 1
    after = await store.job_get(other, theirs.id)
    assert after is not None
    assert after.status.value == "queued", "another tenant's job is never claimed"


async def test_kill_orders_answer_as_the_general_path(sqlite_store: SqliteStore) -> None:
    store = sqlite_store
    tenant_id = (await store.tenant_create("acme")).id
    jobs = await add_jobs(store, tenant_id, 3, queue="a")
    claimed = await store.execution_claim(
        tenant_id, ClaimRequest(queues=["a"], max=3, lease_s=30, worker=W1)
    )
    assert len(claimed) == 3
    assert await store.execution_kill_orders(tenant_id, "w-1") == []
    await store.job_cancel(tenant_id, jobs[1].id, kill_order(await store.now()))
    hot = await store.execution_kill_orders(tenant_id, "w-1")
    general = await ExecutionQueries.execution_kill_orders(store, tenant_id, "w-1")
    assert hot == general == [(jobs[1].id, 1)]
    assert await store.execution_kill_orders(tenant_id, "w-2") == []
    other = (await store.tenant_create("globex")).id
    assert await store.execution_kill_orders(other, "w-1") == []
