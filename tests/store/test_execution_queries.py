"""Conformance: claims, worker updates with fencing, retries and the sweep, on both backends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from jobyard.domain.entities import ClaimRequest, ExecutionUpdate, WorkerIdentity
from jobyard.domain.ids import new_id
from jobyard.domain.states import ExecutionStatus, JobStatus
from jobyard.store import Store
from jobyard.store.sql_store import SqlStoreBase
from tests.store.builders import (
    add_job,
    add_jobs,
    claim,
    claim_one,
    current,
    kill_order,
    report,
    sleep_past,
)
from tests.store.test_sqlite_hot_path import statements

ES = ExecutionStatus

# A store may write most updates of a batch in bulk and the rest row by row (test_bulk_updates.py
# holds the two paths to the same outcomes); the fencing cases here write a bare shape and a
# detailed one.
PLAIN: dict[str, Any] = {}
DETAILED: dict[str, Any] = {"status_details": {"by": "test"}}
SHAPES = (PLAIN, DETAILED)


# claim ----------------------------------------------------------------------------------------
async def test_claim_hands_out_the_job_and_leases_it(store: Store, tenant_id: str) -> None:
    job = await add_job(store, tenant_id, type="export", params={"a": 1}, document={"run": "x"})
    before = await store.now()
    worker = WorkerIdentity(id="w-1", hostname="host-a", pid=4242)
    (claimed,) = await claim(store, tenant_id, lease_s=60, worker=worker)

    assert (claimed.job_type, claimed.params, claimed.document) == (
        "export",
        {"a": 1},
        {"run": "x"},
    )
    ex = claimed.execution
    assert (ex.job_id, ex.execution_number, ex.status, ex.version) == (job.id, 1, ES.IN_PROGRESS, 2)
    assert (ex.worker_id, ex.hostname, ex.pid, ex.lease_s) == ("w-1", "host-a", 4242, 60)
    assert ex.started_at is not None
    assert ex.lease_expires_at is not None
    lease_from_now = (ex.lease_expires_at - before).total_seconds()
    assert 59 <= lease_from_now <= 62

    running = await current(store, tenant_id, job.id)
    assert running.status is JobStatus.IN_PROGRESS
    assert running.started_at is not None
    assert running.latest_execution == ex
    assert await claim(store, tenant_id) == []


async def test_the_jobs_own_lease_wins_over_the_claims(store: Store, tenant_id: str) -> None:
    own = await add_job(store, tenant_id, lease_s=5)
    plain = await add_job(store, tenant_id)
    before = await store.now()
    first, second = (c.execution for c in await claim(store, tenant_id, max=2, lease_s=600))
    assert (first.job_id, second.job_id) == (own.id, plain.id)
    assert (first.lease_s, second.lease_s) == (5, 600)
    for ex in (first, second):
        assert ex.lease_s is not None
        assert ex.lease_expires_at is not None
        assert abs((ex.lease_expires_at - before).total_seconds() - ex.lease_s) < 2

    # A heartbeat renews by the job's length, and the lease runs out by it.
    renewed = (await report(store, tenant_id, first)).execution
    assert renewed is not None
    assert renewed.lease_s == 5
    await sleep_past(store, renewed.lease_expires_at)
    assert (await store.sweep()).timed_out == 1
    assert (await current(store, tenant_id, plain.id)).status is JobStatus.IN_PROGRESS


async def test_claim_orders_by_priority_then_age(store: Store, tenant_id: str) -> None:
    low_old = await add_job(store, tenant_id, priority=0)
    high_old = await add_job(store, tenant_id, priority=10)
    mid = await add_job(store, tenant_id, priority=5)
    high_new = await add_job(store, tenant_id, priority=10)
    low_new = await add_job(store, tenant_id, priority=0)
    expected = [high_old.id, high_new.id, mid.id, low_old.id, low_new.id]

    first = await claim(store, tenant_id, max=3)
    assert [c.execution.job_id for c in first] == expected[:3]
    one_by_one = [(await claim_one(store, tenant_id)).job_id for _ in range(2)]
    assert one_by_one == expected[3:]


async def test_claim_respects_queues_types_max_and_tenant(
    store: Store, tenant_id: str, other_tenant_id: str
) -> None:
    mail = await add_jobs(store, tenant_id, 3, queue="mail", type="send")
    digest = await add_job(store, tenant_id, queue="mail", type="digest")
    report_job = await add_job(store, tenant_id, queue="reports", type="send")
    await add_jobs(store, other_tenant_id, 2, queue="mail", type="send")

    assert await claim(store, tenant_id, ("nothing",)) == []
    by_type = await claim(store, tenant_id, ("mail",), types=["digest"], max=10)
    assert [c.execution.job_id for c in by_type] == [digest.id]
    two = await claim(store, tenant_id, ("mail",), max=2)
    assert [c.execution.job_id for c in two] == [mail[0].id, mail[1].id]
    rest = await claim(store, tenant_id, ("mail", "reports"), max=10)
    assert [c.execution.job_id for c in rest] == [mail[2].id, report_job.id]
    assert await claim(store, tenant_id, ("mail", "reports"), max=10) == []
    assert len(await claim(store, other_tenant_id, ("mail",), max=10)) == 2


async def test_a_claim_reads_its_workers_kill_orders_with_it(
    store: Store, tenant_id: str, other_tenant_id: str
) -> None:
    """What a long poll's first look answers: the executions it leased and the kill orders
    waiting for its worker, as the two reads one after the other would (each backend's own
    path, against `execution_kill_orders`)."""
    w1, w2 = WorkerIdentity(id="w-1"), WorkerIdentity(id="w-2")

    def req(worker: WorkerIdentity, max: int = 5) -> ClaimRequest:
        return ClaimRequest(queues=["default"], max=max, worker=worker)

    held = await add_jobs(store, tenant_id, 3)
    claimed, kills = await store.execution_claim_with_kills(tenant_id, req(w1, max=2))
    assert [c.execution.job_id for c in claimed] == [held[0].id, held[1].id]
    assert [c.execution.worker_id for c in claimed] == ["w-1", "w-1"]
    assert kills == []
    await store.job_cancel(tenant_id, held[1].id, kill_order(await store.now()))
    later = await add_job(store, tenant_id)
    claimed, kills = await store.execution_claim_with_kills(tenant_id, req(w1))
    assert [c.execution.job_id for c in claimed] == [held[2].id, later.id]
    assert [(c.job_type, c.execution.status) for c in claimed] == [("t", ES.IN_PROGRESS)] * 2
    assert kills == [(held[1].id, 1)] == await store.execution_kill_orders(tenant_id, "w-1")
    # Nothing left to lease: the kill orders still come back.
    assert await store.execution_claim_with_kills(tenant_id, req(w1)) == ([], [(held[1].id, 1)])
    assert await store.execution_claim_with_kills(tenant_id, req(w2)) == ([], [])
    assert await store.execution_claim_with_kills(tenant_id, req(WorkerIdentity())) == ([], [])
    assert await store.execution_claim_with_kills(other_tenant_id, req(w1)) == ([], [])
    gone = await add_job(store, other_tenant_id)
    claimed, kills = await store.execution_claim_with_kills(other_tenant_id, req(w1))
    assert ([c.execution.job_id for c in claimed], kills) == ([gone.id], [])


async def test_concurrent_claimers_never_share_an_execution(store: Store, tenant_id: str) -> None:
    jobs = await add_jobs(store, tenant_id, 150)

    async def claimer() -> list[tuple[str, int]]:
        got: list[tuple[str, int]] = []
        while batch := await claim(store, tenant_id, max=4):
            got += [(c.execution.job_id, c.execution.execution_number) for c in batch]
        return got

    results = await asyncio.gather(*(claimer() for _ in range(12)))
    claimed = [pair for result in results for pair in result]
    assert len(claimed) == len(set(claimed)) == 150
    assert {job_id for job_id, _ in claimed} == {job.id for job in jobs}
    assert sum(1 for result in results if result) > 1  # the claimers did take turns
    assert await claim(store, tenant_id, max=10) == []


async def test_a_scheduled_job_waits_for_its_time(store: Store, tenant_id: str) -> None:
    due = await store.now() + timedelta(seconds=1)
    job = await add_job(store, tenant_id, scheduled_at=due)
    assert job.status is JobStatus.SCHEDULED
    assert job.scheduled_at == due
    assert await claim(store, tenant_id) == []
    assert (await store.sweep()).scheduled_due == 0

    await sleep_past(store, due)
    swept = await store.sweep()
    assert swept.scheduled_due == 1
    assert (tenant_id, "default") in swept.requeued
    assert (await current(store, tenant_id, job.id)).status is JobStatus.QUEUED
    assert (await claim_one(store, tenant_id)).job_id == job.id


async def test_a_job_scheduled_in_the_past_is_queued_at_once(store: Store, tenant_id: str) -> None:
    job = await add_job(store, tenant_id, scheduled_at=await store.now() - timedelta(minutes=5))
    assert job.status is JobStatus.QUEUED
    assert (await claim_one(store, tenant_id)).job_id == job.id


# updates and fencing --------------------------------------------------------------------------
async def test_a_progress_update_bumps_the_version_and_renews_the_lease(
    store: Store, tenant_id: str
) -> None:
    job = await add_job(store, tenant_id)
    ex = await claim_one(store, tenant_id, lease_s=5)
    assert ex.lease_expires_at is not None

    outcome = await report(store, tenant_id, ex, status_details={"phase": "copy"}, lease_s=120)
    assert outcome.applied
    assert (outcome.error_code, outcome.cancel_requested) == (None, False)
    after = outcome.execution
    assert after is not None
    assert (after.status, after.version, after.lease_s) == (ES.IN_PROGRESS, ex.version + 1, 120)
    assert after.status_details == {"phase": "copy"}
    assert after.lease_expires_at is not None
    assert after.lease_expires_at > ex.lease_expires_at + timedelta(seconds=100)

    # Without lease_s the lease is renewed by the length it has now.
    renewed = (await report(store, tenant_id, after)).execution
    assert renewed is not None
    assert renewed.version == after.version + 1
    assert renewed.lease_s == 120
    assert renewed.lease_expires_at is not None
    assert renewed.lease_expires_at >= after.lease_expires_at
    assert (await current(store, tenant_id, job.id)).status is JobStatus.IN_PROGRESS


async def test_success_ends_the_execution_and_the_job(store: Store, tenant_id: str) -> None:
    job = await add_job(store, tenant_id)
    ex = await claim_one(store, tenant_id)
    outcome = await report(
        store, tenant_id, ex, ES.SUCCEEDED, result={"url": "https://x/1"}, exit_code=0
    )
    assert outcome.applied
    done = outcome.execution
    assert done is not None
    assert (done.status, done.version, done.exit_code) == (ES.SUCCEEDED, ex.version + 1, 0)
    assert done.completed_at is not None
    assert done.lease_expires_at is None

    ended = await current(store, tenant_id, job.id)
    assert ended.status is JobStatus.SUCCEEDED
    assert ended.result == {"url": "https://x/1"}
    assert ended.completed_at is not None
    assert ended.latest_execution == done


async def test_a_result_or_error_without_status_is_kept_on_the_job(
    store: Store, tenant_id: str
) -> None:
    job = await add_job(store, tenant_id)
    ex = await claim_one(store, tenant_id)
    await report(store, tenant_id, ex, result={"partial": True}, error={"message": "row 7"})
    running = await current(store, tenant_id, job.id)
    assert (running.result, running.error) == ({"partial": True}, {"message": "row 7"})
    assert running.status is JobStatus.IN_PROGRESS


async def test_two_writes_with_one_version_only_the_first_applies(
    store: Store, tenant_id: str
) -> None:
    await add_job(store, tenant_id)
    ex = await claim_one(store, tenant_id)
    updates = [
        ExecutionUpdate(ex.job_id, 1, status_details={"by": "a"}, expected_version=ex.version),
        ExecutionUpdate(ex.job_id, 1, ES.SUCCEEDED, expected_version=ex.version),
    ]
    first, second = await store.execution_update_many(tenant_id, updates)
    assert first.applied
    assert not second.applied
    assert second.error_code == "version_mismatch"
    assert second.execution is not None
    assert (second.execution.status, second.execution.version) == (ES.IN_PROGRESS, ex.version + 1)
    assert second.execution.status_details == {"by": "a"}


async def test_concurrent_writes_with_one_version_exactly_one_wins(
    store: Store, tenant_id: str
) -> None:
    await add_jobs(store, tenant_id, 4)
    kinds = [(None, PLAIN), (None, DETAILED), (ES.SUCCEEDED, PLAIN), (ES.FAILED, DETAILED)]
    claimed = await claim(store, tenant_id, max=4)
    for (status, shape), c in zip(kinds, claimed, strict=True):
        ex = c.execution
        outcomes = await asyncio.gather(
            *(report(store, tenant_id, ex, status, **shape) for _ in range(4))
        )
        winners = [o for o in outcomes if o.applied]
        losers = [o for o in outcomes if not o.applied]
        assert len(winners) == 1, (status, shape)
        won = winners[0].execution
        assert won is not None
        assert won.version == ex.version + 1
        for lost in losers:
            # A final status moves the execution on: the others find it terminal, not stale.
            assert lost.error_code == ("version_mismatch" if status is None else "terminal_state")
            assert lost.execution == won


async def test_writes_without_a_version_are_not_fenced_on_it(store: Store, tenant_id: str) -> None:
    await add_job(store, tenant_id)
    ex = await claim_one(store, tenant_id)
    for n in range(3):
        outcome = await report(store, tenant_id, ex, expected_version=None)
        assert outcome.applied
        assert outcome.execution is not None
        assert outcome.execution.version == ex.version + n + 1


async def test_every_write_to_a_terminal_execution_is_refused(store: Store, tenant_id: str) -> None:
    job = await add_job(store, tenant_id)
    ex = await claim_one(store, tenant_id)
    done = (await report(store, tenant_id, ex, ES.SUCCEEDED, result={"n": 1})).execution
    assert done is not None
    for status in (None, ES.IN_PROGRESS, ES.SUCCEEDED, ES.FAILED, ES.REJECTED, ES.CANCELED):
        for version in (None, done.version):
            for shape in (PLAIN, {"result": {"n": 2}}):
                outcome = await report(
                    store, tenant_id, done, status, expected_version=version, **shape
                )
                assert not outcome.applied
                assert outcome.error_code == "terminal_state"
                assert outcome.execution == done
    ended = await current(store, tenant_id, job.id)
    assert (ended.status, ended.result) == (JobStatus.SUCCEEDED, {"n": 1})


async def test_writes_to_unclaimed_unknown_or_foreign_executions_are_refused(
    store: Store, tenant_id: str, other_tenant_id: str
) -> None:
    queued = await add_job(store, tenant_id)
    assert queued.latest_execution is not None
    outcome = await report(store, tenant_id, queued.latest_execution, ES.SUCCEEDED)
    assert (outcome.applied, outcome.error_code) == (False, "not_claimed")
    assert outcome.execution == queued.latest_execution

    ex = await claim_one(store, tenant_id)
    for tenant, job_id, number in (
        (tenant_id, new_id(), 1),
        (tenant_id, ex.job_id, 2),
        (other_tenant_id, ex.job_id, 1),
    ):
        update = ExecutionUpdate(job_id, number, ES.SUCCEEDED)
        (outcome,) = await store.execution_update_many(tenant, [update])
        assert (outcome.applied, outcome.error_code, outcome.execution) == (
            False,
            "not_found",
            None,
        )
    assert (await current(store, tenant_id, ex.job_id)).status is JobStatus.IN_PROGRESS


async def test_a_batch_judges_each_update_on_its_own(store: Store, tenant_id: str) -> None:
    await add_jobs(store, tenant_id, 2)
    a, b = (c.execution for c in await claim(store, tenant_id, max=2))
    outcomes = await store.execution_update_many(
        tenant_id,
        [
            ExecutionUpdate(a.job_id, 1, ES.SUCCEEDED, expected_version=a.version),
            ExecutionUpdate(b.job_id, 1, ES.SUCCEEDED, expected_version=b.version + 5),
            ExecutionUpdate(new_id(), 1, ES.SUCCEEDED),
            ExecutionUpdate(b.job_id, 1, status_details={"ok": "1"}, expected_version=b.version),
        ],
    )
    assert [(o.applied, o.error_code) for o in outcomes] == [
        (True, None),
        (False, "version_mismatch"),
        (False, "not_found"),
        (True, None),
    ]
    assert (await current(store, tenant_id, a.job_id)).status is JobStatus.SUCCEEDED
    assert (await current(store, tenant_id, b.job_id)).status is JobStatus.IN_PROGRESS


async def test_a_batch_of_outcomes_ends_each_job_its_own_way(store: Store, tenant_id: str) -> None:
    made = await add_jobs(store, tenant_id, 6, max_attempts=2, backoff_base_s=0)
    ex = [c.execution for c in await claim(store, tenant_id, max=6)]
    statuses = [ES.SUCCEEDED, ES.SUCCEEDED, ES.REJECTED, ES.FAILED, None, ES.SUCCEEDED]
    updates = [
        ExecutionUpdate(x.job_id, 1, status, expected_version=x.version)
        for x, status in zip(ex, statuses, strict=True)
    ]
    updates[1].result = {"rows": 3}
    outcomes = await store.execution_update_many(tenant_id, updates)
    assert all(o.applied for o in outcomes)
    assert [o.execution.status for o in outcomes if o.execution] == [
        ES.SUCCEEDED,
        ES.SUCCEEDED,
        ES.REJECTED,
        ES.FAILED,
        ES.IN_PROGRESS,
        ES.SUCCEEDED,
    ]
    jobs = [await current(store, tenant_id, j.id) for j in made]
    assert [(j.status, j.attempts) for j in jobs] == [
        (JobStatus.SUCCEEDED, 1),
        (JobStatus.SUCCEEDED, 1),
        (JobStatus.REJECTED, 1),
        (JobStatus.QUEUED, 2),  # failed with an attempt left: retried
        (JobStatus.IN_PROGRESS, 1),
        (JobStatus.SUCCEEDED, 1),
    ]
    assert jobs[1].result == {"rows": 3}
    assert all(j.completed_at is not None for j in (jobs[0], jobs[1], jobs[2], jobs[5]))
    assert [c.execution.job_id for c in await claim(store, tenant_id, max=6)] == [made[3].id]


async def test_canceled_may_only_answer_a_kill_order(store: Store, tenant_id: str) -> None:
    job = await add_job(store, tenant_id)
    ex = await claim_one(store, tenant_id)
    outcome = await report(store, tenant_id, ex, ES.CANCELED)
    assert (outcome.applied, outcome.error_code) == (False, "invalid_transition")
    assert outcome.execution == ex

    await store.job_cancel(tenant_id, job.id, kill_order(await store.now()))
    outcome = await report(store, tenant_id, ex, ES.CANCELED)
    assert outcome.applied
    assert (await current(store, tenant_id, job.id)).status is JobStatus.CANCELED


async def test_a_worker_may_not_set_a_status_only_the_server_sets(
    store: Store, tenant_id: str
) -> None:
    # The service refuses these first; the store holds to the transition table all the same.
    job = await add_job(store, tenant_id)
    ex = await claim_one(store, tenant_id)
    for status in (ES.TIMED_OUT, ES.REMOVED):
        outcome = await report(store, tenant_id, ex, status)
        assert (outcome.applied, outcome.error_code) == (False, "invalid_transition")
        assert outcome.execution == ex
    assert (await current(store, tenant_id, job.id)).status is JobStatus.IN_PROGRESS
    assert (await report(store, tenant_id, ex, ES.IN_PROGRESS)).applied


# hand back and lease holders --------------------------------------------------------------------
async def test_a_holder_hands_back_an_execution_claimable_at_once(
    store: Store, tenant_id: str
) -> None:
    job = await add_job(store, tenant_id)
    ex = await claim_one(store, tenant_id, worker=WorkerIdentity(id="w-1", hostname="h", pid=7))
    back = await report(store, tenant_id, ex, ES.QUEUED, worker_id="w-1")
    assert back.applied
    assert back.execution is not None
    assert back.execution.status is ES.QUEUED
    assert back.execution.worker_id is None
    assert back.execution.lease_expires_at is None
    assert (await current(store, tenant_id, job.id)).status is JobStatus.QUEUED
    again = await claim_one(store, tenant_id, worker=WorkerIdentity(id="w-2"))
    assert (again.job_id, again.execution_number) == (job.id, 1)
    assert again.version > back.execution.version


async def test_handing_back_under_a_kill_order_cancels(store: Store, tenant_id: str) -> None:
    job = await add_job(store, tenant_id)
    ex = await claim_one(store, tenant_id)
    await store.job_cancel(tenant_id, job.id, kill_order(await store.now()))
    outcome = await report(store, tenant_id, ex, ES.QUEUED)
    assert outcome.applied
    assert outcome.execution is not None
    assert outcome.execution.status is ES.CANCELED
    assert (await current(store, tenant_id, job.id)).status is JobStatus.CANCELED
    assert await claim(store, tenant_id) == []


async def test_only_the_lease_holder_may_write_when_it_names_itself(
    store: Store, tenant_id: str
) -> None:
    for shape in SHAPES:
        job = await add_job(store, tenant_id)
        ex = await claim_one(store, tenant_id, worker=WorkerIdentity(id="w-1"))
        for status in (None, ES.SUCCEEDED, ES.QUEUED):
            stale = await report(store, tenant_id, ex, status, worker_id="w-2", **shape)
            assert (stale.applied, stale.error_code) == (False, "not_lease_holder"), status
            assert stale.execution == ex
        done = await report(store, tenant_id, ex, ES.SUCCEEDED, worker_id="w-1", **shape)
        assert done.applied
        assert (await current(store, tenant_id, job.id)).status is JobStatus.SUCCEEDED


# retries ----------------------------------------------------------------------------------------
async def test_failures_are_retried_until_attempts_run_out(store: Store, tenant_id: str) -> None:
    job = await add_job(store, tenant_id, max_attempts=3, backoff_base_s=0)
    for attempt in (1, 2, 3):
        ex = await claim_one(store, tenant_id)
        assert (ex.job_id, ex.execution_number, ex.version) == (job.id, attempt, 2)
        outcome = await report(store, tenant_id, ex, ES.FAILED, error={"try": attempt})
        assert outcome.applied
        now = await current(store, tenant_id, job.id)
        assert now.error == {"try": attempt}
        if attempt < 3:
            assert (now.status, now.attempts) == (JobStatus.QUEUED, attempt + 1)
            assert now.latest_execution is not None
            assert now.latest_execution.status is ES.QUEUED
            assert now.completed_at is None

    assert (now.status, now.attempts) == (JobStatus.FAILED, 3)
    assert now.completed_at is not None
    assert [x.status for x in await store.execution_list(tenant_id, job.id)] == [ES.FAILED] * 3
    assert await claim(store, tenant_id) == []


async def test_a_retry_waits_out_its_backoff(store: Store, tenant_id: str) -> None:
    # A day of backoff: full jitter makes a wait under a tenth of a second about one in a million.
    job = await add_job(store, tenant_id, max_attempts=2, backoff_base_s=86400, backoff_max_s=86400)
    ex = await claim_one(store, tenant_id)
    await report(store, tenant_id, ex, ES.FAILED)
    second = (await current(store, tenant_id, job.id)).latest_execution
    assert second is not None
    assert second.execution_number == 2
    assert second.queued_at < second.available_at <= second.queued_at + timedelta(days=1, seconds=1)
    assert await claim(store, tenant_id) == []

    canceled = await store.job_cancel(tenant_id, job.id, kill_order(await store.now()))
    assert canceled.status is JobStatus.CANCELED
    assert [x.status for x in await store.execution_list(tenant_id, job.id)] == [
        ES.FAILED,
        ES.CANCELED,
    ]


async def test_rejected_is_never_retried(store: Store, tenant_id: str) -> None:
    job = await add_job(store, tenant_id, max_attempts=5, backoff_base_s=0)
    ex = await claim_one(store, tenant_id)
    await report(store, tenant_id, ex, ES.REJECTED, error={"message": "bad params"})
    ended = await current(store, tenant_id, job.id)
    assert (ended.status, ended.attempts) == (JobStatus.REJECTED, 1)
    assert ended.error == {"message": "bad params"}
    assert await claim(store, tenant_id) == []


# the sweep ----------------------------------------------------------------------------------------
async def test_sweep_leaves_live_work_alone(store: Store, tenant_id: str) -> None:
    await add_jobs(store, tenant_id, 2)
    ex = await claim_one(store, tenant_id, lease_s=30)
    swept = await store.sweep()
    assert (swept.timed_out, swept.scheduled_due, swept.requeued) == (0, 0, set())
    assert (await report(store, tenant_id, ex)).applied


async def test_a_sweep_with_nothing_due_only_reads(store: Store, tenant_id: str) -> None:
    """Most sweeps find nothing: they must not take a write transaction (SQLite's one write
    lock) to find it out."""
    await add_jobs(store, tenant_id, 2)
    await claim_one(store, tenant_id, lease_s=30)
    await add_job(store, tenant_id, scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    assert isinstance(store, SqlStoreBase)
    with statements(store) as seen:
        swept = await store.sweep()
    assert (swept.timed_out, swept.scheduled_due) == (0, 0)
    assert any(s.startswith("SELECT") for s in seen), seen
    writes = ("UPDATE", "INSERT", "DELETE", "BEGIN IMMEDIATE")
    assert not [s for s in seen if s.startswith(writes)], seen


async def test_an_expired_lease_times_out_and_the_job_runs_again(
    store: Store, tenant_id: str, other_tenant_id: str
) -> None:
    job = await add_job(store, tenant_id, max_attempts=2, backoff_base_s=0)
    first = await claim_one(store, tenant_id, lease_s=1)
    live = await add_job(store, other_tenant_id)
    await claim_one(store, other_tenant_id, lease_s=60)
    await sleep_past(store, first.lease_expires_at)

    # Before the sweep notices, the late holder is fenced by its lease.
    for status in (None, ES.SUCCEEDED, ES.FAILED):
        for shape in SHAPES:
            late = await report(store, tenant_id, first, status, **shape)
            assert (late.applied, late.error_code) == (False, "lease_expired")
            assert late.execution == first

    swept = await store.sweep()
    assert swept.timed_out == 1
    assert swept.requeued == {(tenant_id, "default")}
    timed_out, second = await store.execution_list(tenant_id, job.id)
    assert (timed_out.status, timed_out.version) == (ES.TIMED_OUT, first.version + 1)
    assert second.status is ES.QUEUED
    requeued = await current(store, tenant_id, job.id)
    assert (requeued.status, requeued.attempts) == (JobStatus.QUEUED, 2)
    assert (await current(store, other_tenant_id, live.id)).status is JobStatus.IN_PROGRESS

    # After it, the late holder meets a terminal execution; the new holder finishes the job.
    for shape in SHAPES:
        late = await report(store, tenant_id, first, ES.SUCCEEDED, **shape)
        assert (late.applied, late.error_code) == (False, "terminal_state")
    again = await claim_one(store, tenant_id)
    assert (again.job_id, again.execution_number) == (job.id, 2)
    assert (await report(store, tenant_id, again, ES.SUCCEEDED)).applied
    assert (await current(store, tenant_id, job.id)).status is JobStatus.SUCCEEDED
    assert (await store.sweep()).timed_out == 0


async def test_the_in_progress_timeout_ends_a_heartbeating_job(
    store: Store, tenant_id: str
) -> None:
    job = await add_job(store, tenant_id, timeout_s=1, max_attempts=1)
    ex = await claim_one(store, tenant_id, lease_s=60)
    deadline = ex.started_at + timedelta(seconds=1) if ex.started_at else None
    await sleep_past(store, deadline)
    swept = await store.sweep()
    assert (swept.timed_out, swept.requeued) == (1, set())
    ended = await current(store, tenant_id, job.id)
    assert ended.status is JobStatus.TIMED_OUT
    assert ended.completed_at is not None
    late = await report(store, tenant_id, ex)
    assert (late.applied, late.error_code) == (False, "terminal_state")

    retried = await store.job_retry(tenant_id, job.id)  # timed_out may be retried by hand
    assert (retried.status, retried.attempts) == (JobStatus.QUEUED, 2)


async def test_an_expired_lease_with_a_kill_order_ends_canceled(
    store: Store, tenant_id: str
) -> None:
    job = await add_job(store, tenant_id, max_attempts=3, backoff_base_s=0)
    ex = await claim_one(store, tenant_id, lease_s=1)
    await store.job_cancel(tenant_id, job.id, kill_order(await store.now()))
    await sleep_past(store, ex.lease_expires_at)
    swept = await store.sweep()
    assert (swept.timed_out, swept.requeued) == (0, set())
    ended = await current(store, tenant_id, job.id)
    assert (ended.status, ended.attempts) == (JobStatus.CANCELED, 1)
    (stored,) = await store.execution_list(tenant_id, job.id)
    assert stored.status is ES.CANCELED
    assert await claim(store, tenant_id) == []
