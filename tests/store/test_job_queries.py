"""Conformance: job operations (insert, idempotency, get, list, cancel, retry) on both backends."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from jobyard.domain.entities import ExecutionUpdate, NewJob
from jobyard.domain.errors import Conflict, IdempotencyConflict, NotFound
from jobyard.domain.filters import JobFilter
from jobyard.domain.ids import new_id
from jobyard.domain.states import ExecutionStatus, JobStatus
from jobyard.store import Store
from tests.store.builders import (
    add_job,
    add_jobs,
    claim,
    claim_one,
    current,
    kill_order,
    report,
    set_counters,
)

ES = ExecutionStatus


async def ids_listed(store: Store, tenant_id: str, **conditions: object) -> list[str]:
    flt = JobFilter(**conditions)  # type: ignore[arg-type]
    return [job.id for job in await store.job_list(tenant_id, flt)]


# insert ---------------------------------------------------------------------------------------
async def test_insert_many_answers_queued_jobs_each_with_execution_one(
    store: Store, tenant_id: str
) -> None:
    before = await store.now()
    new = [
        NewJob(
            type="export",
            queue="reports",
            priority=7,
            params={"n": i},
            document={"steps": ["a"]},
            labels={"user": "u1"},
            max_attempts=5,
            timeout_s=60,
            steps=["fetch", "load"],
        )
        for i in range(3)
    ]
    created = await store.job_insert_many(tenant_id, "key-1", [(j, None) for j in new])

    assert [is_new for _, is_new in created] == [True, True, True]
    assert len({job.id for job, _ in created}) == 3
    for i, (job, _) in enumerate(created):
        assert (job.tenant_id, job.type, job.queue, job.priority) == (
            tenant_id,
            "export",
            "reports",
            7,
        )
        assert job.params == {"n": i}
        assert job.document == {"steps": ["a"]}
        assert job.labels == {"user": "u1"}
        assert job.owner == "key-1"
        assert (job.max_attempts, job.timeout_s) == (5, 60)
        assert job.status is JobStatus.QUEUED
        assert job.attempts == 1
        assert [(s["name"], s["status"], s["started_at"]) for s in job.steps] == [
            ("fetch", "pending", None),
            ("load", "pending", None),
        ]
        assert set(job.counters.values()) == {0}
        assert before - timedelta(seconds=1) <= job.created_at <= await store.now()
        ex = job.latest_execution
        assert ex is not None
        assert (ex.job_id, ex.execution_number, ex.status, ex.version) == (job.id, 1, ES.QUEUED, 1)
        assert ex.started_at is None
        assert ex.lease_expires_at is None


async def test_inserted_job_reads_back_the_same(store: Store, tenant_id: str) -> None:
    job = await add_job(store, tenant_id, params={"deep": {"list": [1, 2.5, None, "x"]}})
    got = await current(store, tenant_id, job.id)
    assert got == job
    assert [x.execution_number for x in await store.execution_list(tenant_id, job.id)] == [1]


async def test_what_an_insert_answers_is_what_a_read_finds_field_for_field(
    store: Store, tenant_id: str
) -> None:
    """The insert answers without reading its jobs back: every field it fills in itself must be
    what the database holds, for each way of making a job."""
    parent = await add_job(store, tenant_id)
    later = await store.now() + timedelta(hours=1)
    asked = [
        NewJob(
            type="t",
            queue="q",
            priority=-3,
            params={"a": [1, 2.5, None, "ü", {"b": True}], "big": 2**62},
            document={"steps": ["x"]},
            labels={"user": "u1", "connection": "c9"},
            parent_id=parent.id,
            max_attempts=7,
            backoff_base_s=0.5,
            backoff_max_s=12.0,
            timeout_s=60,
            lease_s=30,
            idempotency_key="k-1",
            targets=["thing-1"],
            steps=["fetch", "load"],
            collaborators=["key:abc"],
        ),
        NewJob(type="t", queue="q", scheduled_at=later, targets=["a", "b"]),
        NewJob(type="u"),
    ]
    created = await store.job_insert_many(tenant_id, "owner-1", [(j, "h") for j in asked])
    for job, _ in created:
        assert job == await current(store, tenant_id, job.id)
        (first,) = await store.execution_list(tenant_id, job.id)
        assert job.latest_execution == first
    assert [job.status for job, _ in created] == [
        JobStatus.QUEUED,
        JobStatus.SCHEDULED,
        JobStatus.QUEUED,
    ]


async def test_insert_of_nothing_answers_nothing(store: Store, tenant_id: str) -> None:
    assert await store.job_insert_many(tenant_id, None, []) == []


# idempotency ----------------------------------------------------------------------------------
async def test_same_key_and_body_answers_the_same_job(store: Store, tenant_id: str) -> None:
    new = NewJob(type="t", idempotency_key="k1")
    [(first, created_first)] = await store.job_insert_many(tenant_id, None, [(new, "h1")])
    [(again, created_again)] = await store.job_insert_many(tenant_id, None, [(new, "h1")])
    assert (created_first, created_again) == (True, False)
    assert again.id == first.id
    assert again.latest_execution is not None
    assert await ids_listed(store, tenant_id) == [first.id]


async def test_same_key_other_body_is_a_conflict_and_the_batch_is_not_written(
    store: Store, tenant_id: str
) -> None:
    [(first, _)] = await store.job_insert_many(
        tenant_id, None, [(NewJob(type="t", idempotency_key="k1"), "h1")]
    )
    batch = [(NewJob(type="other"), None), (NewJob(type="t", idempotency_key="k1"), "h2")]
    with pytest.raises(IdempotencyConflict) as info:
        await store.job_insert_many(tenant_id, None, batch)
    assert info.value.details == {"idempotency_key": "k1"}
    assert await ids_listed(store, tenant_id) == [first.id]


async def test_duplicate_keys_within_one_batch(store: Store, tenant_id: str) -> None:
    new = NewJob(type="t", idempotency_key="k1")
    created = await store.job_insert_many(
        tenant_id, None, [(new, "h1"), (NewJob(type="t"), None), (new, "h1")]
    )
    (a, a_new), (b, b_new), (c, c_new) = created
    assert (a_new, b_new, c_new) == (True, True, False)
    assert c.id == a.id != b.id
    assert sorted(await ids_listed(store, tenant_id)) == sorted([a.id, b.id])

    reused = NewJob(type="t", idempotency_key="k2")
    with pytest.raises(IdempotencyConflict):
        await store.job_insert_many(tenant_id, None, [(reused, "h1"), (reused, "h2")])
    assert len(await ids_listed(store, tenant_id)) == 2


async def test_idempotency_keys_belong_to_their_tenant(
    store: Store, tenant_id: str, other_tenant_id: str
) -> None:
    new = NewJob(type="t", idempotency_key="shared")
    [(mine, _)] = await store.job_insert_many(tenant_id, None, [(new, "h1")])
    [(theirs, created)] = await store.job_insert_many(other_tenant_id, None, [(new, "h2")])
    assert created
    assert theirs.id != mine.id
    assert theirs.tenant_id == other_tenant_id


async def test_concurrent_inserts_with_one_key_make_one_job(store: Store, tenant_id: str) -> None:
    new = NewJob(type="t", idempotency_key="race")
    answers = await asyncio.gather(
        *(store.job_insert_many(tenant_id, None, [(new, "h")]) for _ in range(8))
    )
    results = [answer[0] for answer in answers]
    assert len({job.id for job, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert len(await ids_listed(store, tenant_id)) == 1


# get ------------------------------------------------------------------------------------------
async def test_get_is_scoped_to_the_tenant(
    store: Store, tenant_id: str, other_tenant_id: str
) -> None:
    job = await add_job(store, tenant_id)
    assert await store.job_get(other_tenant_id, job.id) is None
    assert await store.job_get(tenant_id, new_id()) is None
    assert await store.execution_list(other_tenant_id, job.id) == []


async def test_get_shows_the_latest_execution(store: Store, tenant_id: str) -> None:
    job = await add_job(store, tenant_id, max_attempts=2, backoff_base_s=0)
    ex = await claim_one(store, tenant_id)
    await report(store, tenant_id, ex, ES.FAILED)
    got = await current(store, tenant_id, job.id)
    assert got.latest_execution is not None
    assert (got.latest_execution.execution_number, got.latest_execution.status) == (2, ES.QUEUED)


# list -----------------------------------------------------------------------------------------
async def test_list_is_newest_first_and_tenant_scoped(
    store: Store, tenant_id: str, other_tenant_id: str
) -> None:
    made = [await add_job(store, tenant_id) for _ in range(4)]
    await add_jobs(store, other_tenant_id, 3)
    assert await ids_listed(store, tenant_id) == [j.id for j in reversed(made)]
    assert await ids_listed(store, tenant_id, limit=2) == [made[3].id, made[2].id]
    assert len(await ids_listed(store, other_tenant_id)) == 3
    assert await ids_listed(store, new_id()) == []


async def test_list_by_status(store: Store, tenant_id: str) -> None:
    running = await add_job(store, tenant_id)
    await claim_one(store, tenant_id)
    queued = await add_job(store, tenant_id)
    canceled = await add_job(store, tenant_id)
    await store.job_cancel(tenant_id, canceled.id, kill_order(await store.now()))
    later = await store.now() + timedelta(hours=1)
    scheduled = await add_job(store, tenant_id, scheduled_at=later)

    assert await ids_listed(store, tenant_id, statuses=[JobStatus.IN_PROGRESS]) == [running.id]
    assert await ids_listed(store, tenant_id, statuses=[JobStatus.SCHEDULED]) == [scheduled.id]
    assert await ids_listed(store, tenant_id, statuses=[JobStatus.QUEUED, JobStatus.CANCELED]) == [
        canceled.id,
        queued.id,
    ]
    assert await ids_listed(store, tenant_id, statuses=[JobStatus.FAILED]) == []


async def test_list_by_type_and_queue(store: Store, tenant_id: str) -> None:
    a = await add_job(store, tenant_id, type="sync", queue="q1")
    b = await add_job(store, tenant_id, type="sync", queue="q2")
    c = await add_job(store, tenant_id, type="export", queue="q1")
    assert await ids_listed(store, tenant_id, types=["sync"]) == [b.id, a.id]
    assert await ids_listed(store, tenant_id, types=["sync", "export"]) == [c.id, b.id, a.id]
    assert await ids_listed(store, tenant_id, queues=["q1"]) == [c.id, a.id]
    assert await ids_listed(store, tenant_id, types=["sync"], queues=["q1"]) == [a.id]
    assert await ids_listed(store, tenant_id, types=["nope"]) == []


async def test_list_by_labels(store: Store, tenant_id: str) -> None:
    a = await add_job(store, tenant_id, labels={"user": "u1", "connection.id": "c1"})
    b = await add_job(store, tenant_id, labels={"user": "u1", "connection.id": "c2"})
    c = await add_job(store, tenant_id, labels={"user": "u2", "flow:id/x-y": "f"})
    await add_job(store, tenant_id)

    assert await ids_listed(store, tenant_id, labels={"user": "u1"}) == [b.id, a.id]
    assert await ids_listed(store, tenant_id, labels={"user": "u1", "connection.id": "c1"}) == [
        a.id
    ]
    assert await ids_listed(store, tenant_id, labels={"user": "u2", "connection.id": "c1"}) == []
    assert await ids_listed(store, tenant_id, labels={"flow:id/x-y": "f"}) == [c.id]
    assert await ids_listed(store, tenant_id, labels={"user": "U1"}) == []
    assert await ids_listed(store, tenant_id, labels={"connection": "c1"}) == []


async def test_list_by_parent_and_id(store: Store, tenant_id: str) -> None:
    parent = await add_job(store, tenant_id)
    other_parent = await add_job(store, tenant_id)
    child_a = await add_job(store, tenant_id, parent_id=parent.id)
    child_b = await add_job(store, tenant_id, parent_id=parent.id)
    child_c = await add_job(store, tenant_id, parent_id=other_parent.id)
    assert await ids_listed(store, tenant_id, parent_ids=[parent.id]) == [child_b.id, child_a.id]
    assert await ids_listed(store, tenant_id, parent_ids=[parent.id, other_parent.id]) == [
        child_c.id,
        child_b.id,
        child_a.id,
    ]
    assert await ids_listed(store, tenant_id, ids=[parent.id, child_c.id, new_id()]) == [
        child_c.id,
        parent.id,
    ]


async def test_list_by_time_ranges_which_include_their_bounds(store: Store, tenant_id: str) -> None:
    made = []
    for _ in range(3):
        made.append(await add_job(store, tenant_id))
        await asyncio.sleep(0.01)
    a, b, c = made
    assert a.created_at < b.created_at < c.created_at

    assert await ids_listed(store, tenant_id, created_at_gte=b.created_at) == [c.id, b.id]
    assert await ids_listed(store, tenant_id, created_at_lte=b.created_at) == [b.id, a.id]
    assert await ids_listed(
        store, tenant_id, created_at_gte=b.created_at, created_at_lte=b.created_at
    ) == [b.id]
    assert await ids_listed(store, tenant_id, created_at_gte=c.created_at + timedelta(0, 1)) == []

    canceled = await store.job_cancel(tenant_id, a.id, kill_order(await store.now()))
    assert canceled.updated_at > c.updated_at
    assert await ids_listed(store, tenant_id, updated_at_gte=canceled.updated_at) == [a.id]
    assert await ids_listed(store, tenant_id, updated_at_lte=c.updated_at) == [c.id, b.id]


async def test_list_by_counters(store: Store, tenant_id: str) -> None:
    a, b, c = await add_jobs(store, tenant_id, 3)
    await set_counters(store, a.id, num_success=10, num_error=0)
    await set_counters(store, b.id, num_success=5, num_error=2)
    assert (await current(store, tenant_id, a.id)).counters["num_success"] == 10

    assert await ids_listed(store, tenant_id, counters_gte={"num_success": 5}) == [b.id, a.id]
    assert await ids_listed(store, tenant_id, counters_gte={"num_success": 6}) == [a.id]
    assert await ids_listed(store, tenant_id, counters_lte={"num_success": 5}) == [c.id, b.id]
    assert await ids_listed(store, tenant_id, counters_gte={"num_error": 1}) == [b.id]
    assert await ids_listed(
        store, tenant_id, counters_gte={"num_success": 1}, counters_lte={"num_error": 0}
    ) == [a.id]


async def test_pages_walk_every_job_once_while_new_ones_arrive(
    store: Store, tenant_id: str
) -> None:
    original = [job.id for job in await add_jobs(store, tenant_id, 25)]
    seen: list[str] = []
    before_id: str | None = None
    for _ in range(5):  # three pages are enough; a cursor that does not advance must not hang
        page = await store.job_list(tenant_id, JobFilter(limit=10, before_id=before_id))
        seen += [job.id for job in page]
        if len(page) < 10:
            break
        before_id = page[-1].id
        await add_jobs(store, tenant_id, 3)  # newer than every page still to come
    assert seen == sorted(original, reverse=True)


async def test_pages_keep_their_filter(store: Store, tenant_id: str) -> None:
    wanted = [j.id for j in await add_jobs(store, tenant_id, 5, type="wanted")]
    await add_jobs(store, tenant_id, 5, type="other")
    first = await ids_listed(store, tenant_id, types=["wanted"], limit=3)
    rest = await ids_listed(store, tenant_id, types=["wanted"], limit=3, before_id=first[-1])
    assert first + rest == sorted(wanted, reverse=True)


# cancel ---------------------------------------------------------------------------------------
async def test_cancel_of_a_queued_job_is_at_once(store: Store, tenant_id: str) -> None:
    job = await add_job(store, tenant_id)
    now = await store.now()
    canceled = await store.job_cancel(tenant_id, job.id, kill_order(now, reason="not needed"))

    assert canceled.status is JobStatus.CANCELED
    assert canceled.completed_at is not None
    assert canceled.kill_order is not None
    assert (canceled.kill_order.requested_by, canceled.kill_order.reason) == (
        "admin-key",
        "not needed",
    )
    (ex,) = await store.execution_list(tenant_id, job.id)
    assert (ex.status, ex.version) == (ES.CANCELED, 2)
    assert ex.completed_at is not None
    assert await claim(store, tenant_id) == []


async def test_cancel_of_a_scheduled_job_is_at_once(store: Store, tenant_id: str) -> None:
    job = await add_job(store, tenant_id, scheduled_at=await store.now() + timedelta(hours=1))
    canceled = await store.job_cancel(tenant_id, job.id, kill_order(await store.now()))
    assert canceled.status is JobStatus.CANCELED
    assert (await store.sweep()).scheduled_due == 0
    assert (await current(store, tenant_id, job.id)).status is JobStatus.CANCELED


async def test_cancel_of_a_running_job_registers_a_kill_order(store: Store, tenant_id: str) -> None:
    job = await add_job(store, tenant_id)
    ex = await claim_one(store, tenant_id)
    first = await store.job_cancel(tenant_id, job.id, kill_order(await store.now(), reason="one"))
    assert first.status is JobStatus.CANCELING
    assert first.latest_execution is not None
    assert first.latest_execution.status is ES.IN_PROGRESS

    again = await store.job_cancel(tenant_id, job.id, kill_order(await store.now(), reason="two"))
    assert again.status is JobStatus.CANCELING
    assert again.kill_order == first.kill_order  # the first order stands

    shapes: list[dict[str, Any]] = [{}, {"status_details": {"phase": "copy"}}]
    for shape in shapes:
        outcome = await report(store, tenant_id, ex, expected_version=None, **shape)
        assert outcome.applied
        assert outcome.cancel_requested


async def test_every_answer_after_a_kill_order_says_so(store: Store, tenant_id: str) -> None:
    jobs = await add_jobs(store, tenant_id, 2)
    plain, detailed = (c.execution for c in await claim(store, tenant_id, max=2))
    for job in jobs:
        await store.job_cancel(tenant_id, job.id, kill_order(await store.now()))
    shapes: list[dict[str, Any]] = [{}, {"result": {"partial": True}}]
    for ex, shape in zip((plain, detailed), shapes, strict=True):
        outcome = await report(store, tenant_id, ex, ES.SUCCEEDED, **shape)
        assert (outcome.applied, outcome.cancel_requested) == (True, True)
        late = await report(store, tenant_id, ex, **shape)
        assert (late.applied, late.error_code, late.cancel_requested) == (
            False,
            "terminal_state",
            True,
        )


async def test_worker_confirms_a_kill_order_and_the_job_is_not_retried(
    store: Store, tenant_id: str
) -> None:
    job = await add_job(store, tenant_id, max_attempts=3, backoff_base_s=0)
    ex = await claim_one(store, tenant_id)
    await store.job_cancel(tenant_id, job.id, kill_order(await store.now()))
    outcome = await report(store, tenant_id, ex, ES.CANCELED)
    assert outcome.applied
    assert outcome.execution is not None
    assert outcome.execution.status is ES.CANCELED

    ended = await current(store, tenant_id, job.id)
    assert ended.status is JobStatus.CANCELED
    assert ended.attempts == 1
    assert ended.completed_at is not None
    assert len(await store.execution_list(tenant_id, job.id)) == 1
    assert await claim(store, tenant_id) == []


async def test_a_worker_that_fails_after_a_kill_order_is_not_retried(
    store: Store, tenant_id: str
) -> None:
    job = await add_job(store, tenant_id, max_attempts=3, backoff_base_s=0)
    ex = await claim_one(store, tenant_id)
    await store.job_cancel(tenant_id, job.id, kill_order(await store.now()))
    assert (await report(store, tenant_id, ex, ES.FAILED)).applied
    assert (await current(store, tenant_id, job.id)).status is JobStatus.FAILED
    assert await claim(store, tenant_id) == []


async def test_force_cancel_ends_the_running_execution_at_once(
    store: Store, tenant_id: str
) -> None:
    job = await add_job(store, tenant_id, max_attempts=3, backoff_base_s=0)
    ex = await claim_one(store, tenant_id)
    canceled = await store.job_cancel(tenant_id, job.id, kill_order(await store.now(), force=True))
    assert canceled.status is JobStatus.CANCELED
    assert canceled.kill_order is not None
    assert canceled.kill_order.force
    (stored,) = await store.execution_list(tenant_id, job.id)
    assert stored.status is ES.CANCELED
    assert stored.version == ex.version + 1

    late = await report(store, tenant_id, ex, ES.SUCCEEDED)
    assert not late.applied
    assert late.error_code == "terminal_state"
    assert late.cancel_requested
    assert await claim(store, tenant_id) == []


async def test_cancel_of_a_finished_job_is_a_conflict(store: Store, tenant_id: str) -> None:
    job = await add_job(store, tenant_id)
    ex = await claim_one(store, tenant_id)
    await report(store, tenant_id, ex, ES.SUCCEEDED)
    with pytest.raises(Conflict) as info:
        await store.job_cancel(tenant_id, job.id, kill_order(await store.now()))
    assert "succeeded" in info.value.message
    after = await current(store, tenant_id, job.id)
    assert after.status is JobStatus.SUCCEEDED
    assert after.kill_order is None

    queued = await add_job(store, tenant_id)
    await store.job_cancel(tenant_id, queued.id, kill_order(await store.now()))
    with pytest.raises(Conflict):
        await store.job_cancel(tenant_id, queued.id, kill_order(await store.now()))


async def test_cancel_of_an_unknown_or_foreign_job_is_not_found(
    store: Store, tenant_id: str, other_tenant_id: str
) -> None:
    job = await add_job(store, tenant_id)
    for tenant, job_id in ((tenant_id, new_id()), (other_tenant_id, job.id)):
        with pytest.raises(NotFound):
            await store.job_cancel(tenant, job_id, kill_order(await store.now()))
    assert (await current(store, tenant_id, job.id)).status is JobStatus.QUEUED


# retry ----------------------------------------------------------------------------------------
async def test_retry_of_a_failed_job_queues_a_new_execution(store: Store, tenant_id: str) -> None:
    job = await add_job(store, tenant_id, max_attempts=1)
    ex = await claim_one(store, tenant_id)
    await report(store, tenant_id, ex, ES.FAILED, error={"message": "boom"})
    assert (await current(store, tenant_id, job.id)).status is JobStatus.FAILED

    retried = await store.job_retry(tenant_id, job.id)
    assert retried.status is JobStatus.QUEUED
    assert retried.attempts == 2
    assert retried.completed_at is None
    assert retried.latest_execution is not None
    assert (retried.latest_execution.execution_number, retried.latest_execution.status) == (
        2,
        ES.QUEUED,
    )
    again = await claim_one(store, tenant_id)
    assert (again.job_id, again.execution_number) == (job.id, 2)
    assert (await report(store, tenant_id, again, ES.SUCCEEDED)).applied
    assert (await current(store, tenant_id, job.id)).status is JobStatus.SUCCEEDED


async def test_retry_of_a_canceled_job_clears_the_kill_order(store: Store, tenant_id: str) -> None:
    job = await add_job(store, tenant_id, max_attempts=5, backoff_base_s=0)
    await store.job_cancel(tenant_id, job.id, kill_order(await store.now()))
    retried = await store.job_retry(tenant_id, job.id)
    assert retried.status is JobStatus.QUEUED
    assert retried.kill_order is None

    ex = await claim_one(store, tenant_id)
    assert ex.execution_number == 2
    outcome = await report(store, tenant_id, ex, ES.FAILED)
    assert not outcome.cancel_requested
    # Without the old kill order, a failure is retried automatically again.
    assert (await current(store, tenant_id, job.id)).attempts == 3


async def test_retry_refuses_jobs_that_are_not_failed_timed_out_or_canceled(
    store: Store, tenant_id: str
) -> None:
    running, canceling, succeeded, rejected, queued = await add_jobs(store, tenant_id, 5)
    claimed = [c.execution for c in await claim(store, tenant_id, max=4)]
    await store.job_cancel(tenant_id, canceling.id, kill_order(await store.now()))
    await report(store, tenant_id, claimed[2], ES.SUCCEEDED)
    await report(store, tenant_id, claimed[3], ES.REJECTED)

    for job, status in (
        (queued, JobStatus.QUEUED),
        (running, JobStatus.IN_PROGRESS),
        (canceling, JobStatus.CANCELING),
        (succeeded, JobStatus.SUCCEEDED),
        (rejected, JobStatus.REJECTED),
    ):
        assert (await current(store, tenant_id, job.id)).status is status
        with pytest.raises(Conflict) as info:
            await store.job_retry(tenant_id, job.id)
        assert status.value in info.value.message
        assert len(await store.execution_list(tenant_id, job.id)) == 1
    assert (await current(store, tenant_id, queued.id)).attempts == 1


async def test_retry_of_an_unknown_or_foreign_job_is_not_found(
    store: Store, tenant_id: str, other_tenant_id: str
) -> None:
    job = await add_job(store, tenant_id)
    await store.job_cancel(tenant_id, job.id, kill_order(await store.now()))
    with pytest.raises(NotFound):
        await store.job_retry(tenant_id, new_id())
    with pytest.raises(NotFound):
        await store.job_retry(other_tenant_id, job.id)
    assert (await current(store, tenant_id, job.id)).status is JobStatus.CANCELED


# tenants ----------------------------------------------------------------------------------------
async def test_a_second_tenant_sees_nothing_of_the_first(
    store: Store, tenant_id: str, other_tenant_id: str
) -> None:
    job = await add_job(store, tenant_id, labels={"user": "u1"}, idempotency_key="k")
    ex = await claim_one(store, tenant_id)
    before = await current(store, tenant_id, job.id)

    assert await store.job_get(other_tenant_id, job.id) is None
    assert await store.job_list(other_tenant_id, JobFilter()) == []
    assert await store.job_list(other_tenant_id, JobFilter(ids=[job.id])) == []
    assert await store.execution_list(other_tenant_id, job.id) == []
    assert await claim(store, other_tenant_id, max=10) == []
    (outcome,) = await store.execution_update_many(
        other_tenant_id, [ExecutionUpdate(job.id, 1, ES.FAILED, expected_version=ex.version)]
    )
    assert (outcome.applied, outcome.error_code, outcome.execution) == (False, "not_found", None)
    with pytest.raises(NotFound):
        await store.job_cancel(other_tenant_id, job.id, kill_order(await store.now(), force=True))
    with pytest.raises(NotFound):
        await store.job_retry(other_tenant_id, job.id)

    assert await current(store, tenant_id, job.id) == before
