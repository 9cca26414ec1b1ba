"""Conformance: a batch of worker updates ends exactly where the same updates one by one would.

A store writes most rows of a batch in bulk (one statement per kind, each row with its own
result, error, details, exit code or lease) and the rest row by row. These cases run one
scenario through `execution_update_many` and through the general path alone
(`report_row_by_row`) and compare every outcome, execution and job; then they hold each bulk
shape to the fencing rules and to per-row leases and retries.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import pytest

from jobyard.domain.entities import (
    Execution,
    ExecutionUpdate,
    NewLogEntry,
    UpdateOutcome,
    WorkerIdentity,
)
from jobyard.domain.states import ExecutionStatus, JobStatus
from jobyard.store import Store
from jobyard.store.bulk_updates import BulkUpdates
from tests.store.builders import (
    add_job,
    add_jobs,
    claim,
    claim_one,
    current,
    kill_order,
    report,
    report_row_by_row,
    sleep_past,
)

ES = ExecutionStatus
W1 = WorkerIdentity(id="w-1", hostname="h", pid=1)

# Shapes the bulk path takes, final and not; each is also fenced below.
RICH_SHAPES: list[tuple[ExecutionStatus | None, dict[str, Any]]] = [
    (ES.SUCCEEDED, {"result": {"rows": 3}}),
    (ES.SUCCEEDED, {"result": {"ok": True}, "error": {"warn": 1}, "status_details": {"s": "end"}}),
    (ES.REJECTED, {"error": {"message": "bad params"}, "exit_code": 2}),
    (ES.FAILED, {"error": {"try": 1}, "exit_code": 1}),
    (None, {"status_details": {"phase": "copy"}, "lease_s": 90}),
    (ES.IN_PROGRESS, {"result": {"partial": True}, "exit_code": 0}),
]

# One scenario: (job fields, what happens first, status, update fields). Each row names its
# own job; "stale", "other worker", "finished" and "unclaimed" rows are refused.
SCENARIO: list[tuple[dict[str, Any], str | None, ExecutionStatus | None, dict[str, Any]]] = [
    ({}, None, ES.SUCCEEDED, {}),
    ({}, None, ES.SUCCEEDED, {"result": {"rows": 3}}),
    ({}, None, ES.SUCCEEDED, {"result": {"l": [1, 2]}, "error": {"w": 1}, "exit_code": 0}),
    ({}, None, ES.SUCCEEDED, {"status_details": {"step": "end"}, "worker_id": "w-1"}),
    ({}, None, ES.REJECTED, {"error": {"message": "bad"}}),
    ({}, None, ES.REJECTED, {"status_details": {"why": "params"}, "exit_code": 2}),
    ({"max_attempts": 3}, None, ES.FAILED, {"error": {"try": 1}, "exit_code": 1}),
    ({"max_attempts": 1}, None, ES.FAILED, {"error": {"last": True}}),
    ({"max_attempts": 3}, "kill", ES.FAILED, {"error": {"killed": True}}),
    ({}, "kill", ES.SUCCEEDED, {"result": {"n": 1}}),
    ({}, "kill", ES.CANCELED, {}),
    ({}, "kill", None, {"status_details": {"seen": "kill"}}),
    ({}, None, None, {}),
    ({}, None, None, {"status_details": {"phase": "copy"}}),
    ({}, None, None, {"lease_s": 120, "worker_id": "w-1"}),
    ({}, None, ES.IN_PROGRESS, {"result": {"partial": True}, "error": {"row": 7}, "lease_s": 5}),
    ({}, None, None, {"exit_code": 3}),
    ({}, None, ES.QUEUED, {"worker_id": "w-1"}),
    ({}, "stale", ES.SUCCEEDED, {"result": {"late": True}}),
    ({}, "stale", None, {"lease_s": 60}),
    ({}, "other worker", ES.FAILED, {"error": {"x": 1}}),
    ({}, "other worker", None, {"status_details": {"x": "1"}}),
    ({}, "finished", ES.SUCCEEDED, {"result": {"again": True}}),
    ({}, "finished", None, {"lease_s": 60}),
    ({}, "unclaimed", ES.SUCCEEDED, {"result": {"x": 1}}),
    ({}, "noted", ES.SUCCEEDED, {"error": {"e": 1}}),  # keeps the result noted before
]


def _shape(ex: Execution | None) -> dict[str, Any] | None:
    """An execution without its clock readings: which are set, and the lease it was given."""
    if ex is None:
        return None
    out = asdict(ex)
    for name, value in list(out.items()):
        if isinstance(value, datetime):
            out[name] = "set"
    if ex.lease_expires_at is not None:
        out["lease_left"] = round((ex.lease_expires_at - ex.last_updated_at).total_seconds())
    del out["job_id"], out["queue"]  # differ between the two runs by construction
    return out


def _outcome(o: UpdateOutcome) -> tuple[Any, ...]:
    return (o.applied, o.error_code, o.message, o.cancel_requested, _shape(o.execution))


async def _run_scenario(
    store: Store,
    tenant_id: str,
    queue: str,
    write: Any,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Set the scenario up on fresh jobs in `queue`, write its updates with `write`, and answer
    the outcomes and what became of each job and its executions."""
    made = [
        await add_job(store, tenant_id, queue=queue, backoff_base_s=0, **fields)
        for fields, setup, _, _ in SCENARIO
        if setup != "unclaimed"
    ]
    claimed = {
        c.execution.job_id: c.execution
        for c in await claim(store, tenant_id, (queue,), max=len(made), lease_s=30, worker=W1)
    }
    updates: list[ExecutionUpdate] = []
    held = iter(made)
    for _fields, setup, status, fields in SCENARIO:
        if setup == "unclaimed":
            job = await add_job(store, tenant_id, queue=queue + "-later")
            assert job.latest_execution is not None
            ex = job.latest_execution
        else:
            ex = claimed[next(held).id]
        version: int | None = ex.version
        if setup == "kill":
            await store.job_cancel(tenant_id, ex.job_id, kill_order(await store.now()))
        elif setup == "stale":
            version = ex.version - 1
        elif setup == "other worker":
            fields = {**fields, "worker_id": "w-2"}
        elif setup == "finished":
            assert (await report(store, tenant_id, ex, ES.SUCCEEDED, result={"n": 1})).applied
        elif setup == "noted":
            noted = await report(store, tenant_id, ex, result={"early": 1})
            assert noted.execution is not None
            version = noted.execution.version
        updates.append(
            ExecutionUpdate(
                ex.job_id, ex.execution_number, status, expected_version=version, **fields
            )
        )
    # Repeats keep their sequential meaning: a heartbeat, then the row's next write.
    first = updates[12]
    updates.append(
        ExecutionUpdate(first.job_id, 1, ES.SUCCEEDED, expected_version=3, result={"n": 2})
    )
    updates.append(ExecutionUpdate(first.job_id, 1, expected_version=3))
    before = await store.now()
    outcomes = await write(store, tenant_id, updates)
    seen = []
    for u in updates[: len(SCENARIO)]:
        job = await current(store, tenant_id, u.job_id)
        seen.append(
            (
                job.status,
                job.attempts,
                job.result,
                job.error,
                job.completed_at is not None,
                job.updated_at >= before,
                [_shape(x) for x in await store.execution_list(tenant_id, job.id)],
            )
        )
    return [_outcome(o) for o in outcomes], seen


async def test_a_batch_writes_what_row_by_row_writes(store: Store, tenant_id: str) -> None:
    async def batch(s: Store, t: str, updates: list[ExecutionUpdate]) -> list[UpdateOutcome]:
        return await s.execution_update_many(t, updates)

    bulk = await _run_scenario(store, tenant_id, "bulk", batch)
    general = await _run_scenario(store, tenant_id, "general", report_row_by_row)
    for n, (b, g) in enumerate(zip(bulk[0], general[0], strict=True)):
        assert b == g, (n, b, g)
    for n, (b, g) in enumerate(zip(bulk[1], general[1], strict=True)):
        assert b == g, (n, SCENARIO[n], b, g)
    # ... and the scenario means what it says.
    applied = [o[0] for o in bulk[0]]
    assert applied == [True] * 18 + [False] * 7 + [True] + [True, False]
    assert [o[1] for o in bulk[0][18:]] == [
        "version_mismatch",
        "version_mismatch",
        "not_lease_holder",
        "not_lease_holder",
        "terminal_state",
        "terminal_state",
        "not_claimed",
        None,
        None,
        "terminal_state",
    ]
    jobs = bulk[1]
    assert jobs[6][:2] == (JobStatus.QUEUED, 2)  # failed with attempts left: retried
    assert jobs[7][:2] == (JobStatus.FAILED, 1)  # no attempt left
    assert jobs[8][:2] == (JobStatus.FAILED, 1)  # a kill order stops retries
    assert [o[3] for o in bulk[0][8:12]] == [True] * 4  # each answered with the kill order
    assert jobs[2][2:4] == ({"l": [1, 2]}, {"w": 1})
    assert jobs[15][:4] == (JobStatus.IN_PROGRESS, 1, {"partial": True}, {"row": 7})
    assert jobs[12][0] is JobStatus.SUCCEEDED  # the repeat applied after the heartbeat
    assert jobs[25][:4] == (JobStatus.SUCCEEDED, 1, {"early": 1}, {"e": 1})


@pytest.mark.parametrize(("status", "fields"), RICH_SHAPES)
async def test_each_bulk_shape_is_fenced(
    store: Store, tenant_id: str, status: ExecutionStatus | None, fields: dict[str, Any]
) -> None:
    await add_jobs(store, tenant_id, 4)
    stale, foreign, done, live = (
        c.execution for c in await claim(store, tenant_id, max=4, worker=W1)
    )
    assert (await report(store, tenant_id, done, ES.SUCCEEDED)).applied
    (finished,) = await store.execution_list(tenant_id, done.job_id)
    refused = [
        ExecutionUpdate(stale.job_id, 1, status, expected_version=stale.version + 1, **fields),
        ExecutionUpdate(foreign.job_id, 1, status, worker_id="w-2", **fields),
        ExecutionUpdate(done.job_id, 1, status, expected_version=done.version, **fields),
    ]
    applies = ExecutionUpdate(live.job_id, 1, status, expected_version=live.version, **fields)
    outcomes = await store.execution_update_many(tenant_id, [*refused, applies])
    assert [(o.applied, o.error_code) for o in outcomes] == [
        (False, "version_mismatch"),
        (False, "not_lease_holder"),
        (False, "terminal_state"),
        (True, None),
    ]
    assert [o.execution for o in outcomes[:3]] == [stale, foreign, finished]
    general = await report_row_by_row(store, tenant_id, refused)
    assert [_outcome(o) for o in general] == [_outcome(o) for o in outcomes[:3]]
    for ex in (stale, foreign):
        untouched = await current(store, tenant_id, ex.job_id)
        assert (untouched.status, untouched.result, untouched.error) == (
            JobStatus.IN_PROGRESS,
            None,
            None,
        )
        assert untouched.latest_execution == ex


@pytest.mark.parametrize(("status", "fields"), RICH_SHAPES)
async def test_each_bulk_shape_is_refused_after_the_lease(
    store: Store, tenant_id: str, status: ExecutionStatus | None, fields: dict[str, Any]
) -> None:
    job = await add_job(store, tenant_id)
    ex = await claim_one(store, tenant_id, lease_s=1)
    await sleep_past(store, ex.lease_expires_at)
    update = ExecutionUpdate(ex.job_id, 1, status, expected_version=ex.version, **fields)
    for outcomes in (
        await store.execution_update_many(tenant_id, [update]),
        await report_row_by_row(store, tenant_id, [update]),
    ):
        assert [(o.applied, o.error_code, o.execution) for o in outcomes] == [
            (False, "lease_expired", ex)
        ]
    still = await current(store, tenant_id, job.id)
    assert (still.status, still.result, still.error) == (JobStatus.IN_PROGRESS, None, None)


async def test_each_heartbeat_renews_its_own_lease(store: Store, tenant_id: str) -> None:
    await add_jobs(store, tenant_id, 3)
    a, b, c = (x.execution for x in await claim(store, tenant_id, max=3, lease_s=30))
    before = await store.now()
    outcomes = await store.execution_update_many(
        tenant_id,
        [
            ExecutionUpdate(a.job_id, 1, lease_s=600, status_details={"a": "1"}),
            ExecutionUpdate(b.job_id, 1, ES.IN_PROGRESS, lease_s=5),
            ExecutionUpdate(c.job_id, 1, exit_code=4),
        ],
    )
    after = [o.execution for o in outcomes if o.applied and o.execution is not None]
    assert [x.version for x in after] == [a.version + 1, b.version + 1, c.version + 1]
    assert [x.lease_s for x in after] == [600, 5, 30]
    for x in after:
        assert x.lease_s is not None
        assert x.lease_expires_at is not None
        assert abs((x.lease_expires_at - before).total_seconds() - x.lease_s) < 2
    assert [(x.status_details, x.exit_code) for x in after] == [
        ({"a": "1"}, None),
        ({}, None),
        ({}, 4),
    ]
    renewed = (await report(store, tenant_id, after[1])).execution
    assert renewed is not None
    assert renewed.lease_s == 5  # the length the last heartbeat set


async def test_a_batch_of_failures_retries_each_job_by_its_own_policy(
    store: Store, tenant_id: str
) -> None:
    made = [
        await add_job(store, tenant_id, max_attempts=attempts, backoff_base_s=0)
        for attempts in (2, 1, 3, 2)
    ]
    ex = [c.execution for c in await claim(store, tenant_id, max=4)]
    await store.job_cancel(tenant_id, made[3].id, kill_order(await store.now()))
    outcomes = await store.execution_update_many(
        tenant_id,
        [
            ExecutionUpdate(x.job_id, 1, ES.FAILED, error={"n": n}, exit_code=n)
            for n, x in enumerate(ex)
        ],
    )
    assert [(o.applied, o.cancel_requested) for o in outcomes] == [
        (True, False),
        (True, False),
        (True, False),
        (True, True),
    ]
    jobs = [await current(store, tenant_id, j.id) for j in made]
    assert [(j.status, j.attempts, j.error) for j in jobs] == [
        (JobStatus.QUEUED, 2, {"n": 0}),
        (JobStatus.FAILED, 1, {"n": 1}),
        (JobStatus.QUEUED, 2, {"n": 2}),
        (JobStatus.FAILED, 1, {"n": 3}),
    ]
    assert [j.completed_at is not None for j in jobs] == [False, True, False, True]
    for j in (jobs[0], jobs[2]):
        assert j.latest_execution is not None
        assert (j.latest_execution.execution_number, j.latest_execution.status) == (2, ES.QUEUED)
        assert (j.latest_execution.queue, j.latest_execution.version) == ("default", 1)
    again = await claim(store, tenant_id, max=4)
    assert sorted(c.execution.job_id for c in again) == sorted([made[0].id, made[2].id])
    # The second attempt ends the first job: its last attempt, so no third.
    second = next(c.execution for c in again if c.execution.job_id == made[0].id)
    (last,) = await store.execution_update_many(
        tenant_id, [ExecutionUpdate(made[0].id, 2, ES.FAILED, expected_version=second.version)]
    )
    assert last.applied
    ended = await current(store, tenant_id, made[0].id)
    assert (ended.status, ended.attempts, ended.error) == (JobStatus.FAILED, 2, {"n": 0})


async def test_concurrent_batches_sharing_rows_do_not_deadlock(
    store: Store, tenant_id: str
) -> None:
    # Two batches name the same rows with crossed kinds, so their heartbeat statements and
    # their final ones would take the rows' locks in opposite orders, were they not all taken
    # up front in key order.
    async def batch(beats: list[Execution], finals: list[Execution]) -> list[UpdateOutcome]:
        updates = [ExecutionUpdate(x.job_id, 1, status_details={"k": "v"}) for x in beats]
        updates += [ExecutionUpdate(x.job_id, 1, ES.SUCCEEDED, result={"ok": 1}) for x in finals]
        return await store.execution_update_many(tenant_id, updates)

    for _ in range(3):
        made = await add_jobs(store, tenant_id, 60)
        held = [c.execution for c in await claim(store, tenant_id, max=60)]
        xs, ys = held[::2], held[1::2]
        for outcomes in await asyncio.gather(batch(xs, ys), batch(ys, xs)):
            assert all(o.applied or o.error_code == "terminal_state" for o in outcomes[:30])
            assert all(o.applied for o in outcomes[30:])
        for job in made:
            assert (await current(store, tenant_id, job.id)).status is JobStatus.SUCCEEDED


# Rows that follow a job: steps, progress and counters, with each kind of status.
FOLLOWED: list[tuple[dict[str, Any], ExecutionStatus | None, dict[str, Any]]] = [
    (
        {"steps": ["read", "write"]},
        ES.SUCCEEDED,
        {
            "steps": [
                {"name": "read", "status": "succeeded"},
                {"name": "write", "status": "skipped"},
            ],
            "progress": {"current": 10, "total": 10, "message": "done"},
            "counters": {"num_success": 3, "num_pages": 1},
            "result": {"rows": 3},
        },
    ),
    (
        {"max_attempts": 3},
        ES.FAILED,
        {
            "steps": [{"name": "load", "status": "failed", "error": {"m": "x"}}],
            "counters": {"num_error": 2},
        },
    ),
    (
        {},
        None,
        {"progress": {"current": 1, "total": 4, "message": "m"}, "counters": {"num_ignore": 5}},
    ),
    (
        {},
        ES.IN_PROGRESS,
        {"steps": [{"name": "a", "status": "in_progress"}], "status_details": {"p": "1"}},
    ),
    ({}, ES.REJECTED, {"counters": {"num_export": 7}}),
]


async def test_followed_rows_in_a_batch_write_what_row_by_row_writes(
    store: Store, tenant_id: str
) -> None:
    async def run(queue: str, write: Any) -> list[tuple[Any, ...]]:
        made = [
            await add_job(store, tenant_id, queue=queue, backoff_base_s=0, **job)
            for job, _, _ in FOLLOWED
        ]
        held = {
            c.execution.job_id: c.execution
            for c in await claim(store, tenant_id, (queue,), max=len(made), worker=W1)
        }
        updates = [
            ExecutionUpdate(job.id, 1, status, expected_version=held[job.id].version, **fields)
            for job, (_, status, fields) in zip(made, FOLLOWED, strict=True)
        ]
        stale = held[made[2].id]  # a refused row writes none of what it carries
        updates.append(
            ExecutionUpdate(stale.job_id, 1, expected_version=0, counters={"num_success": 100})
        )
        outcomes = await write(store, tenant_id, updates)
        assert [o.applied for o in outcomes] == [True] * len(FOLLOWED) + [False]
        seen = []
        for job in made:
            after = await current(store, tenant_id, job.id)
            steps = [
                {k: (v if not k.endswith("_at") else v is not None) for k, v in s.items()}
                for s in after.steps
            ]
            seen.append((after.status, after.attempts, steps, after.progress, after.counters))
        return seen

    async def batch(s: Store, t: str, updates: list[ExecutionUpdate]) -> list[UpdateOutcome]:
        return await s.execution_update_many(t, updates)

    bulk = await run("followed-bulk", batch)
    general = await run("followed-general", report_row_by_row)
    assert bulk == general
    assert bulk[0][0] is JobStatus.SUCCEEDED
    assert [s["status"] for s in bulk[0][2]] == ["succeeded", "skipped"]
    assert bulk[0][3] == {"current": 10, "total": 10, "message": "done"}
    assert bulk[0][4]["num_success"] == 3
    assert bulk[1][:2] == (JobStatus.QUEUED, 2)  # retried, with the failed attempt's steps kept
    assert bulk[1][2][0]["error"] == {"m": "x"}
    assert bulk[1][4]["num_error"] == 2
    assert bulk[2][4]["num_ignore"] == 5
    assert bulk[2][4]["num_success"] == 0
    assert bulk[4][4]["num_export"] == 7


@pytest.mark.parametrize(
    "stepped", ["declared", "onto-none", "none"], ids=["with-steps", "onto-none", "without-steps"]
)
async def test_a_batch_of_followed_ends_writes_what_row_by_row_writes(
    store: Store, tenant_id: str, stepped: str
) -> None:
    """Every row ends its job and carries steps, progress, counters or lines: each backend's
    hot path writes such a batch in a few statements of its own, and ends where the general
    bulk path (which writes the lines as well) ends. Steps are merged onto a job's declared
    steps ("declared"), or onto none for every job of the batch ("onto-none": on PostgreSQL,
    one statement without a transaction)."""
    at = datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    ends: list[tuple[dict[str, Any], ExecutionStatus, dict[str, Any]]] = [
        (
            {"steps": ["read", "write"]},
            ES.SUCCEEDED,
            {
                "steps": [
                    {"name": "read", "status": "in_progress"},
                    {"name": "read", "status": "succeeded", "result": {"n": 1}},
                    {"name": "new", "status": "succeeded"},
                ],
                "progress": {"current": 10, "total": 10, "message": "done"},
                "counters": {"num_success": 3, "num_pages": 1},
                "logs": [NewLogEntry("stdout", "one", at), NewLogEntry("stderr", 'twö \\ "q"')],
                "result": {"rows": 3},
                "status_details": {"phase": "end"},
                "exit_code": 0,
            },
        ),
        ({}, ES.REJECTED, {"logs": [NewLogEntry("system", "no")], "error": {"m": "bad"}}),
        ({}, ES.SUCCEEDED, {"progress": {"current": 1, "total": None, "message": None}}),
        ({}, ES.SUCCEEDED, {"counters": {"num_export": 7}}),
        ({}, ES.SUCCEEDED, {}),
    ]
    if stepped != "none":  # the same reports on a job that declared no steps: onto none
        ends.append(({}, ES.SUCCEEDED, {"steps": ends[0][2]["steps"]}))
    if stepped == "onto-none":
        ends[0] = ({}, *ends[0][1:])
    if stepped == "none":  # the steps are read under lock in a transaction; without, one statement
        del ends[0][2]["steps"]

    async def run(queue: str, write: Any) -> list[Any]:
        made = [await add_job(store, tenant_id, queue=queue, **job) for job, _, _ in ends]
        for job in made[:2]:  # lines written before: the update's go on after them
            await store.log_append(tenant_id, job.id, 1, [NewLogEntry("stdout", "before")])
        held = {
            c.execution.job_id: c.execution
            for c in await claim(store, tenant_id, (queue,), max=len(made), worker=W1)
        }
        updates = [
            ExecutionUpdate(job.id, 1, status, worker_id=W1.id, **fields)
            for job, (_, status, fields) in zip(made, ends, strict=True)
        ]
        stale = held[made[3].id]
        updates[3].expected_version = stale.version - 1  # refused: writes none of it
        outcomes = await write(store, tenant_id, updates)
        seen: list[Any] = [[(o.applied, o.error_code, o.log_lines) for o in outcomes]]
        for job in made:
            after = await current(store, tenant_id, job.id)
            steps = [
                {k: (v if not k.endswith("_at") else v is not None) for k, v in s.items()}
                for s in after.steps
            ]
            (ex,) = await store.execution_list(tenant_id, job.id)
            lines = await store.log_list(tenant_id, job.id, after=0, limit=100)
            seen.append(
                (
                    after.status,
                    after.result,
                    after.error,
                    steps,
                    after.progress,
                    after.counters,
                    ex.status,
                    ex.status_details,
                    ex.exit_code,
                    [(e.seq, e.execution_number, e.source, e.data) for e in lines],
                    [e.ts for e in lines if e.data == "one"],
                )
            )
        return seen

    async def batch(s: Store, t: str, updates: list[ExecutionUpdate]) -> list[UpdateOutcome]:
        return await s.execution_update_many(t, updates)

    async def general_bulk(s: Store, t: str, updates: list[ExecutionUpdate]) -> list[UpdateOutcome]:
        assert isinstance(s, BulkUpdates)
        return await BulkUpdates.execution_update_many(s, t, updates)

    bulk = await run("ends-bulk", batch)
    general = await run("ends-general", general_bulk)
    assert bulk == general
    assert bulk[0][:5] == [
        (True, None, 3),
        (True, None, 2),
        (True, None, None),
        (False, "version_mismatch", None),
        (True, None, None),
    ]
    onto_none = [("read", "succeeded", {"n": 1}), ("new", "succeeded", None)]
    if stepped != "none":
        assert bulk[0][5] == (True, None, None)
        assert [(s["name"], s["status"], s["result"]) for s in bulk[6][3]] == onto_none
    first = bulk[1]
    assert first[0] is JobStatus.SUCCEEDED
    assert [(s["name"], s["status"], s["result"]) for s in first[3]] == {
        "declared": [onto_none[0], ("write", "pending", None), onto_none[1]],
        "onto-none": onto_none,
        "none": [("read", "pending", None), ("write", "pending", None)],
    }[stepped]
    assert first[5]["num_success"] == 3
    assert first[9] == [
        (1, 1, "stdout", "before"),
        (2, 1, "stdout", "one"),
        (3, 1, "stderr", 'twö \\ "q"'),
    ]
    assert first[10] == [at]
    assert bulk[2][0] is JobStatus.REJECTED
    assert bulk[2][9][-1] == (2, 1, "system", "no")
    assert bulk[4][5]["num_export"] == 0
    assert bulk[4][6] is ES.IN_PROGRESS
