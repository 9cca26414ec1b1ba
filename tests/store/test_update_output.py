"""Lines and record errors written with worker updates, on both backends: only for the updates
that apply, numbered on from the job's other lines, in the order of the batch."""

from __future__ import annotations

from datetime import UTC, datetime

from jobyard.domain.entities import ExecutionUpdate, NewLogEntry, NewRecordError
from jobyard.domain.states import ExecutionStatus
from jobyard.store import Store
from tests.store.builders import add_jobs, claim
from tests.support.checked_lines import checked

ES = ExecutionStatus


def said(*data: str) -> list[NewLogEntry]:
    return [NewLogEntry("stdout", d) for d in data]


async def test_lines_are_numbered_in_batch_order_for_applied_updates(
    store: Store, tenant_id: str, other_tenant_id: str
) -> None:
    a, b = await add_jobs(store, tenant_id, 2)
    held = {c.execution.job_id: c.execution for c in await claim(store, tenant_id, max=2)}
    ex_a, ex_b = held[a.id], held[b.id]
    assert await store.log_append(tenant_id, a.id, 1, said("by the route")) == (1, 1)
    at = datetime(2030, 1, 2, tzinfo=UTC)
    updates = [
        ExecutionUpdate(a.id, 1, logs=[NewLogEntry("stderr", "a1", at), *said("a2")]),
        ExecutionUpdate(b.id, 1, expected_version=ex_b.version + 1, logs=said("refused")),
        ExecutionUpdate(
            b.id,
            1,
            status=ES.SUCCEEDED,
            logs=said("b1"),
            record_errors=[NewRecordError("bad", code="E", data=[1, "x"]), NewRecordError("m")],
        ),
        ExecutionUpdate(a.id, 1, status=ES.FAILED, logs=said("a3"), error={"m": 1}),
    ]
    outcomes = await store.execution_update_many(tenant_id, updates)
    assert [o.applied for o in outcomes] == [True, False, True, True]
    assert [o.log_lines for o in outcomes] == [4, None, 1, 4]
    lines_a = await store.log_list(tenant_id, a.id, after=0, limit=100)
    assert [(e.seq, e.source, e.data) for e in lines_a] == [
        (1, "stdout", "by the route"),
        (2, "stderr", "a1"),
        (3, "stdout", "a2"),
        (4, "stdout", "a3"),
    ]
    assert lines_a[1].ts == at
    assert lines_a[2].ts > at.replace(year=2020)
    lines_b = await store.log_list(tenant_id, b.id, after=0, limit=100)
    assert [(e.seq, e.execution_number, e.data) for e in lines_b] == [(1, 1, "b1")]
    errors = await store.record_error_list(tenant_id, b.id, after_id=None, limit=10)
    assert [(e.message, e.code, e.data, e.retriable) for e in errors] == [
        ("bad", "E", [1, "x"], False),
        ("m", None, None, False),
    ]
    assert await store.record_error_list(tenant_id, a.id, after_id=None, limit=10) == []
    assert ex_a.version  # held until now
    # another tenant names the same executions: nothing of theirs lands here
    theirs = await store.execution_update_many(
        other_tenant_id, [ExecutionUpdate(b.id, 1, logs=said("intruder"))]
    )
    assert not theirs[0].applied
    assert len(await store.log_list(tenant_id, b.id, after=0, limit=100)) == 1


async def test_an_update_without_output_writes_no_lines(store: Store, tenant_id: str) -> None:
    (job,) = await add_jobs(store, tenant_id, 1)
    await claim(store, tenant_id)
    (o,) = await store.execution_update_many(
        tenant_id, [ExecutionUpdate(job.id, 1, status=ES.SUCCEEDED, logs=[])]
    )
    assert o.applied
    assert o.log_lines is None
    assert await store.log_list(tenant_id, job.id, after=0, limit=10) == []


async def test_lines_read_straight_are_kept_as_they_came_and_read_as_lines(
    store: Store, tenant_id: str
) -> None:
    """Kept as their JSON, by an end (the backends' own path for ends) and by an update that
    goes on; read back as any lines, times in UTC, a line without one at its write's."""
    ended, going = await add_jobs(store, tenant_id, 2)
    await claim(store, tenant_id, max=2)
    lines = checked(
        {"data": "zoned", "source": "stderr", "ts": "2030-01-02T08:34:05.000007+05:30"},
        {"data": "untimed"},
        {"data": 'é ✓ 😀 "quoted"\n', "source": "system", "ts": "2030-01-02T03:04:05Z"},
    )
    steps = [{"name": "read", "status": "succeeded"}]
    outcomes = await store.execution_update_many(
        tenant_id,
        [
            ExecutionUpdate(ended.id, 1, status=ES.SUCCEEDED, steps=steps, logs=lines),
            ExecutionUpdate(going.id, 1, logs=lines),
        ],
    )
    assert [(o.applied, o.log_lines) for o in outcomes] == [(True, 3), (True, 3)]
    for job in (ended, going):
        read = await store.log_list(tenant_id, job.id, after=0, limit=10)
        assert [(e.seq, e.source, e.data) for e in read] == [
            (1, "stderr", "zoned"),
            (2, "stdout", "untimed"),
            (3, "system", 'é ✓ 😀 "quoted"\n'),
        ]
        assert read[0].ts == datetime(2030, 1, 2, 3, 4, 5, 7, tzinfo=UTC)
        assert read[2].ts == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
        assert read[1].ts > datetime(2026, 1, 1, tzinfo=UTC)
    # a trim that cuts into those lines keeps the rest of them as they were
    await store.log_trim(tenant_id, going.id, 1, 2, "[{} dropped]")
    kept = await store.log_list(tenant_id, going.id, after=0, limit=10)
    assert [(e.seq, e.data) for e in kept] == [(2, "[2 dropped]"), (3, 'é ✓ 😀 "quoted"\n')]
    assert kept[1].ts == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
