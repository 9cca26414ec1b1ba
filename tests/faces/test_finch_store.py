"""The store's exclusive creation, which the Finch face relies on, on both backends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from jobyard.domain.entities import ClaimRequest, ExecutionUpdate, KillOrder, NewJob
from jobyard.domain.exclusive import ExclusiveRule
from jobyard.domain.states import ExecutionStatus, JobStatus
from jobyard.store import Store

LABELS = {"finch.connection": "conn-1"}


def sync_job(connection: str = "conn-1") -> NewJob:
    labels = {"finch.connection": connection}
    return NewJob(type="data_sync_all", queue="finch", labels=labels, max_attempts=1)


async def test_concurrent_creates_make_one_job(store: Store) -> None:
    tenant_id = (await store.tenant_create("acme")).id
    rule = ExclusiveRule(dict(LABELS))
    outcomes = await asyncio.gather(
        *(store.job_insert_exclusive(tenant_id, "conn-1", sync_job(), rule) for _ in range(8))
    )
    assert sum(o.created for o in outcomes) == 1
    assert len({o.job.id for o in outcomes if o.job is not None}) == 1


async def test_a_new_job_once_the_active_one_ends_within_the_quota(store: Store) -> None:
    tenant_id = (await store.tenant_create("acme")).id
    other_tenant = (await store.tenant_create("globex")).id
    start = (await store.now()) - timedelta(minutes=1)
    rule = ExclusiveRule(dict(LABELS), quota=2, window_start=start)

    first = await store.job_insert_exclusive(tenant_id, "conn-1", sync_job(), rule)
    assert (first.created, first.used) == (True, 1)
    assert first.job is not None
    again = await store.job_insert_exclusive(tenant_id, "conn-1", sync_job(), rule)
    assert (again.created, again.used) == (False, 1)
    assert again.job is not None
    assert again.job.id == first.job.id

    # Another connection, or another tenant, is another kind.
    elsewhere = ExclusiveRule({"finch.connection": "conn-2"}, quota=2, window_start=start)
    assert (
        await store.job_insert_exclusive(tenant_id, "conn-2", sync_job("conn-2"), elsewhere)
    ).created
    assert (await store.job_insert_exclusive(other_tenant, "conn-1", sync_job(), rule)).created

    (claimed,) = await store.execution_claim(tenant_id, ClaimRequest(queues=["finch"], max=1))
    assert claimed.execution.job_id == first.job.id
    update = ExecutionUpdate(
        job_id=first.job.id, execution_number=1, status=ExecutionStatus.SUCCEEDED
    )
    await store.execution_update_many(tenant_id, [update])

    second = await store.job_insert_exclusive(tenant_id, "conn-1", sync_job(), rule)
    assert (second.created, second.used) == (True, 2)
    assert second.job is not None
    assert second.job.status is JobStatus.QUEUED
    refused = await store.job_insert_exclusive(
        tenant_id, "conn-1", sync_job(), ExclusiveRule(dict(LABELS), quota=2, window_start=start)
    )
    assert refused.job is not None  # the second is still active: it is answered, quota or not
    assert refused.job.id == second.job.id

    cancel = KillOrder(requested_at=datetime.now(UTC), requested_by=None, force=False, reason=None)
    await store.job_cancel(tenant_id, second.job.id, cancel)
    spent = await store.job_insert_exclusive(tenant_id, "conn-1", sync_job(), rule)
    assert (spent.job, spent.created, spent.used) == (None, False, 2)
