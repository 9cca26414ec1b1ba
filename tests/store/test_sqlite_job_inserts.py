"""SQLite's job inserts in fixed statements write what the general path writes.

Two tenants of one store get the same jobs, one through `job_insert_many` (the hot path), the
other through the general path alone (`JobQueries.job_insert_many`). What each answers, and
what is read back after, must agree but for ids and times; and what the hot path answers must
be what is read back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jobyard.domain.entities import Job, NewJob
from jobyard.domain.errors import IdempotencyConflict
from jobyard.store.job_queries import JobQueries
from jobyard.store.sqlite import SqliteStore
from tests.store.test_sqlite_hot_path import statements


def _batch(parent_id: str | None, key_prefix: str) -> list[tuple[NewJob, str | None]]:
    later = datetime.now(UTC) + timedelta(hours=1)
    earlier = datetime.now(UTC) - timedelta(hours=1)
    return [
        (NewJob(type="plain"), None),
        (
            NewJob(
                type="rich",
                queue="q2",
                priority=7,
                params={"n": 1, "nested": {"ok": True}, "text": "é ✓"},
                document={"steps": [1, 2.5, None]},
                labels={"user": "u1"},
                parent_id=parent_id,
                max_attempts=5,
                backoff_base_s=0.25,
                backoff_max_s=9.5,
                timeout_s=60,
                lease_s=90,
                idempotency_key=f"{key_prefix}-1",
                targets=["thing-1"],
                steps=["read", "write"],
                collaborators=["bob"],
            ),
            "hash-1",
        ),
        (NewJob(type="later", scheduled_at=later, idempotency_key=f"{key_prefix}-2"), "h2"),
        (NewJob(type="due", scheduled_at=earlier), None),
        (NewJob(type="fleet", targets=["a", "b"]), None),
    ]


def _shape(job: Job) -> tuple[Any, ...]:
    """A job without its id, tenant, parent and times: what two tenants' copies share."""
    x = job.latest_execution
    assert x is not None
    return (
        job.type,
        job.queue,
        job.priority,
        job.status.value,
        job.params,
        job.document,
        job.labels,
        job.owner,
        job.collaborators,
        job.max_attempts,
        job.backoff_base_s,
        job.backoff_max_s,
        job.timeout_s,
        job.lease_s,
        job.targets,
        job.steps,
        job.attempts,
        job.scheduled_at is None,
        (x.status.value, x.version, x.queue, x.type, x.priority, x.target, x.execution_number),
        x.available_at == (job.scheduled_at or job.created_at),
        x.queued_at == job.created_at,
    )


async def test_inserts_write_what_the_general_path_writes(sqlite_store: SqliteStore) -> None:
    store = sqlite_store
    hot = (await store.tenant_create("hot")).id
    general = (await store.tenant_create("general")).id
    answers: dict[str, list[Job]] = {}
    for tenant_id, insert in ((hot, store.job_insert_many), (general, None)):
        (parent, _), *_ = await store.job_insert_many(tenant_id, None, [(NewJob("p"), None)])
        batch = _batch(parent.id, "k")
        if insert is None:
            made = await JobQueries.job_insert_many(store, tenant_id, "owner-1", batch)
        else:
            made = await insert(tenant_id, "owner-1", batch)
        assert all(created for _, created in made)
        answers[tenant_id] = [job for job, _ in made]
        assert [j.parent_id for j in answers[tenant_id]][1] == parent.id
    assert [_shape(j) for j in answers[hot]] == [_shape(j) for j in answers[general]]
    for tenant_id in (hot, general):
        for job in answers[tenant_id]:
            stored = await store.job_get(tenant_id, job.id)
            assert stored is not None
            assert _shape(stored) == _shape(job)
            assert (stored.created_at, stored.scheduled_at, stored.parent_id) == (
                job.created_at,
                job.scheduled_at,
                job.parent_id,
            )
            assert stored.latest_execution == job.latest_execution


async def test_a_known_key_is_answered_as_the_general_path_answers_it(
    sqlite_store: SqliteStore,
) -> None:
    store = sqlite_store
    tenant_id = (await store.tenant_create("acme")).id
    new = NewJob("t", idempotency_key="once")
    ((first, created),) = await store.job_insert_many(tenant_id, None, [(new, "h")])
    assert created
    ((again, created),) = await store.job_insert_many(tenant_id, None, [(new, "h")])
    assert (again.id, created) == (first.id, False)
    with pytest.raises(IdempotencyConflict):
        await store.job_insert_many(tenant_id, None, [(new, "another hash")])
    pair = NewJob("t", idempotency_key="pair")
    twice: list[tuple[NewJob, str | None]] = [(pair, "h"), (pair, "h")]
    ((one, made), (two, made_too)) = await store.job_insert_many(tenant_id, None, twice)
    assert (one.id, made, made_too) == (two.id, True, False)


async def test_a_create_is_an_insert_a_table(sqlite_store: SqliteStore) -> None:
    """The job, its first execution and its key: no lookup first, and no key row for a job
    made without one."""
    store = sqlite_store
    tenant_id = (await store.tenant_create("acme")).id
    with statements(store) as seen:
        await store.job_insert_many(tenant_id, None, [(NewJob("t", idempotency_key="k"), "h")])
        await store.job_insert_many(tenant_id, None, [(NewJob("t"), None)])
    assert [s.split()[:3] for s in seen if s.split()[0] in ("INSERT", "SELECT", "UPDATE")] == [
        ["INSERT", "INTO", "jobs"],
        ["INSERT", "INTO", "executions"],
        ["INSERT", "INTO", "job_keys"],
        ["INSERT", "INTO", "jobs"],
        ["INSERT", "INTO", "executions"],
    ]
