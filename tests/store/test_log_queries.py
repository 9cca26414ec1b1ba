"""Conformance: log entries, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

from jobyard.domain.entities import NewJob, NewLogEntry
from jobyard.domain.filters import JobFilter
from jobyard.domain.states import ExecutionStatus as ES
from jobyard.domain.things import NewFleetJob
from jobyard.store import Store
from tests.store.builders import add_job, claim_one, report

MARK = "[{} dropped]"


def lines(n: int, prefix: str = "line") -> list[NewLogEntry]:
    return [NewLogEntry("stdout", f"{prefix} {i}") for i in range(n)]


async def test_appends_get_gap_free_seqs_per_job(store: Store, tenant_id: str) -> None:
    job = await add_job(store, tenant_id)
    ex = await claim_one(store, tenant_id)
    assert await store.log_append(tenant_id, job.id, 1, lines(3)) == (3, 3)
    assert await store.log_append(tenant_id, job.id, 1, lines(2, "more")) == (5, 5)
    got = await store.log_list(tenant_id, job.id, after=0, limit=100)
    assert [e.seq for e in got] == [1, 2, 3, 4, 5]
    assert [e.data for e in got] == ["line 0", "line 1", "line 2", "more 0", "more 1"]
    assert {e.execution_number for e in got} == {ex.execution_number}
    assert all(e.ts.tzinfo is not None for e in got)


async def test_reads_after_a_seq_or_the_newest(store: Store, tenant_id: str) -> None:
    job = await add_job(store, tenant_id)
    await claim_one(store, tenant_id)
    await store.log_append(tenant_id, job.id, 1, lines(10))
    after = await store.log_list(tenant_id, job.id, after=4, limit=3)
    assert [e.seq for e in after] == [5, 6, 7]
    newest = await store.log_list(tenant_id, job.id, after=None, limit=3)
    assert [e.seq for e in newest] == [8, 9, 10]


async def test_reads_and_trims_across_writes_and_their_chunks(store: Store, tenant_id: str) -> None:
    """Each write's lines are kept together (`store/log_chunks.py`): reads and trims that begin
    or end inside one write's lines, or span several, see every line once and in order, with the
    time its worker gave it or, when it gave none, the time it was written."""
    job = await add_job(store, tenant_id)
    await claim_one(store, tenant_id)
    when = datetime(2026, 5, 4, 3, 2, 1, 123457, tzinfo=UTC)
    await store.log_append(tenant_id, job.id, 1, [*lines(4), NewLogEntry("stderr", "at", when)])
    await store.log_append(tenant_id, job.id, 1, lines(1, "one"))
    await store.log_append(tenant_id, job.id, 1, lines(4, "more"))
    every = await store.log_list(tenant_id, job.id, after=0, limit=100)
    assert [e.seq for e in every] == list(range(1, 11))
    assert (every[4].source, every[4].data, every[4].ts) == ("stderr", "at", when)
    assert every[0].ts != when
    assert every[0].ts.tzinfo is not None
    for after, limit in [(0, 3), (2, 2), (3, 4), (4, 1), (5, 3), (6, 100), (10, 5)]:
        got = await store.log_list(tenant_id, job.id, after=after, limit=limit)
        assert got == every[after : after + limit], (after, limit)
    for limit in (1, 4, 5, 6, 7, 100):
        got = await store.log_list(tenant_id, job.id, after=None, limit=limit)
        assert got == every[-limit:], limit
    assert await store.log_trim(tenant_id, job.id, 1, 4, MARK) == 7  # inside the third write
    got = await store.log_list(tenant_id, job.id, after=0, limit=100)
    assert [e.data for e in got] == ["[7 dropped]", "more 1", "more 2", "more 3"]
    assert [e.seq for e in got] == [7, 8, 9, 10]
    assert got[1:] == every[7:]
    assert await store.log_list(tenant_id, job.id, after=7, limit=2) == every[7:9]


async def test_appends_need_the_execution_its_tenant_and_its_holder(
    store: Store, tenant_id: str, other_tenant_id: str
) -> None:
    job = await add_job(store, tenant_id)
    await claim_one(store, tenant_id)
    assert await store.log_append(tenant_id, job.id, 2, lines(1)) is None
    assert await store.log_append(other_tenant_id, job.id, 1, lines(1)) is None
    assert await store.log_list(other_tenant_id, job.id, after=0, limit=10) == []


async def test_trim_keeps_the_newest_and_says_how_many_went(store: Store, tenant_id: str) -> None:
    job = await add_job(store, tenant_id)
    await claim_one(store, tenant_id)
    await store.log_append(tenant_id, job.id, 1, lines(10))
    assert await store.log_trim(tenant_id, job.id, 1, 4, MARK) == 7
    got = await store.log_list(tenant_id, job.id, after=0, limit=100)
    assert [e.data for e in got] == ["[7 dropped]", "line 7", "line 8", "line 9"]
    assert got[0].source == "system"
    await store.log_append(tenant_id, job.id, 1, lines(3, "late"))
    await store.log_trim(tenant_id, job.id, 1, 4, MARK)
    got = await store.log_list(tenant_id, job.id, after=0, limit=100)
    assert [e.data for e in got] == ["[10 dropped]", "late 0", "late 1", "late 2"]
    assert [e.seq for e in got] == sorted(e.seq for e in got)


async def test_a_deleted_job_s_lines_go_with_it(store: Store, tenant_id: str) -> None:
    """Lines and executions have no foreign key to cascade from (migrations 0008 and 0012):
    each delete of a job names them. A fleet job's children, one by one or all with the
    fleet, leave none behind."""
    fleet_new = NewFleetJob(name="f", things=["a", "b", "c"], targets=[], document=None)
    parent = NewJob(type="fleet", queue="fleet", max_attempts=1)
    children = [NewJob(type="t", queue="q", targets=[t]) for t in fleet_new.things]
    fleet = await store.fleet_insert(tenant_id, None, fleet_new, parent, children)
    kids = await store.job_list(tenant_id, JobFilter(parent_ids=[fleet.id]))
    held = {}
    for _ in kids:
        ex = await claim_one(store, tenant_id, queues=("q",))
        held[ex.job_id] = ex
        assert await store.log_append(tenant_id, ex.job_id, 1, lines(2)) is not None
    assert set(held) == {k.id for k in kids}
    first, second = kids[0].id, kids[1].id
    await report(store, tenant_id, held[first], ES.SUCCEEDED)
    await store.fleet_execution_delete(tenant_id, first, 1, force=False)
    assert await store.log_list(tenant_id, first, after=0, limit=10) == []
    assert await store.execution_list(tenant_id, first) == []
    assert len(await store.log_list(tenant_id, second, after=0, limit=10)) == 2
    assert [e.job_id for e in await store.execution_list(tenant_id, second)] == [second]

    await store.fleet_delete(tenant_id, fleet.id)
    for kid in kids:
        assert await store.log_list(tenant_id, kid.id, after=0, limit=10) == []
        assert await store.execution_list(tenant_id, kid.id) == []
    assert await store.execution_list(tenant_id, fleet.id) == []
