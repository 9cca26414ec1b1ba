"""PostgreSQL's hot statements read rows by their keys, whatever the statistics say.

A young table's statistics say it is nearly empty, and a prepared statement's generic plan is
made without the values: then any index that names the tenant looks as good as the key, and a
lookup of 20 jobs by id read every job of the tenant, once a batch (a batch of followed ends
took milliseconds more with every thousand jobs). Here the plan is asked for as a long-running
server gets it (generic, on a table never analyzed) and run, and the rows it read are counted.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import asyncpg
import pytest

from jobyard.domain.entities import ExecutionUpdate
from jobyard.domain.filters import JobFilter
from jobyard.domain.states import ExecutionStatus, JobStatus
from jobyard.store import open_store, postgres_hot_path, tables
from jobyard.store.end_batches import FreshSteps
from jobyard.store.job_queries import _job_with_latest
from jobyard.store.postgres import PostgresStore
from jobyard.store.postgres_hot_path import _Followed
from jobyard.store.postgres_statements import (
    EXECUTION_CLAIM_WITH_KILLS,
    FRESH_STEPS_END,
    JOB_STEPS_LOCK,
    STEPS_CHANGED,
)
from tests.store.builders import add_jobs, claim, current
from tests.support import databases

pytestmark = pytest.mark.postgres

TENANT_JOBS = 2000


@pytest.fixture
def pg_db_url(pg_template: str) -> Iterator[str]:
    name, url = databases.create_database(pg_template)
    yield url
    databases.drop_database(name)


@pytest.fixture
async def young(pg_db_url: str) -> AsyncIterator[tuple[asyncpg.Connection, str, list[str], str]]:
    """A connection on generic plans; a tenant with many jobs; one job of another tenant."""
    store = open_store(pg_db_url)
    try:
        tenant = (await store.tenant_create("acme")).id
        other = (await store.tenant_create("globex")).id
        jobs = [j.id for j in await add_jobs(store, tenant, TENANT_JOBS)]
        (foreign,) = [j.id for j in await add_jobs(store, other, 1)]
    finally:
        await store.close()
    conn = await asyncpg.connect(pg_db_url)
    try:
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        yield conn, tenant, jobs, foreign
    finally:
        await conn.close()


def rows_read(plan: dict[str, Any], table: str) -> int:
    """The rows the plan's scans of `table` looked at: those they gave and those they dropped."""
    own = 0
    if plan.get("Relation Name") == table:
        seen = plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)
        own = (seen + plan.get("Rows Removed by Index Recheck", 0)) * plan["Actual Loops"]
    return own + sum(rows_read(p, table) for p in plan.get("Plans", []))


async def test_locking_the_steps_of_a_batch_reads_its_jobs_only(
    young: tuple[asyncpg.Connection, str, list[str], str],
) -> None:
    conn, tenant, jobs, foreign = young
    wanted = sorted(jobs[::100])  # 20 of the tenant's 2,000
    async with conn.transaction():
        (text,) = await conn.fetchrow(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + JOB_STEPS_LOCK, tenant, [*wanted, foreign]
        )
        locked = await conn.fetch(JOB_STEPS_LOCK, tenant, [*wanted, foreign])
    plan = json.loads(text)[0]["Plan"]
    assert rows_read(plan, "jobs") <= len(wanted) + 1  # 21 ids asked; the tenant has 2,000
    assert sorted(str(r["id"]) for r in locked) == wanted  # not the other tenant's


async def test_a_claim_with_its_kill_orders_reads_what_it_leases_and_no_more(
    young: tuple[asyncpg.Connection, str, list[str], str],
) -> None:
    """The kill orders are read through the index of pending ones: not the tenant's jobs."""
    conn, tenant, jobs, _ = young
    await conn.execute(
        "UPDATE executions SET status = 'in_progress', worker_id = 'w-1' WHERE job_id = $1",
        jobs[0],
    )
    await conn.execute(
        "UPDATE jobs SET status = 'in_progress', kill_requested_at = now() WHERE id = $1", jobs[0]
    )
    sql = EXECUTION_CLAIM_WITH_KILLS.format(
        conditions="e.tenant_id = $1 AND e.status = 'queued' AND e.available_at <= now()"
        " AND e.queue = $9"
    )
    args = (tenant, 2, 30, "w-1", None, None, None, None, "default")
    (text,) = await conn.fetchrow("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, *args)
    plan = json.loads(text)[0]["Plan"]
    # Each of the two leased, picked from the claim index, found by key and written; its
    # job found by key and started; the one kill order: of the tenant's 2,000.
    assert rows_read(plan, "executions") <= 2 + 2 + 2 + 1
    assert rows_read(plan, "jobs") <= 2 + 2 + 1
    leased = await conn.fetch(sql, *args)
    assert [str(r["job_id"]) for r in leased] == jobs[3:5]  # the two after the EXPLAIN's
    assert json.loads(leased[0]["kills"]) == [[jobs[0], 1]]


def _stepped_ends(job_ids: list[str]) -> list[Any]:
    """The columns of a batch of ends that report steps for `job_ids`, merged onto none."""
    batch = [
        ExecutionUpdate(j, 1, ExecutionStatus.SUCCEEDED, steps=[{"name": "a", "status": "skipped"}])
        for j in job_ids
    ]
    fresh = FreshSteps(None)
    return _Followed(batch).columns([fresh.text(u.steps or []) for u in batch])


async def test_a_batch_of_steps_merged_onto_none_looks_its_jobs_up_by_key(
    young: tuple[asyncpg.Connection, str, list[str], str],
) -> None:
    """Before it writes, it asks whether any of its jobs has steps, job by job."""
    conn, tenant, jobs, _ = young
    wanted = sorted(jobs[::100])
    async with conn.transaction():  # nothing is running: nothing is ended, but all is asked
        (text,) = await conn.fetchrow(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + FRESH_STEPS_END, tenant, *_stepped_ends(wanted)
        )
    plan = json.loads(text)[0]["Plan"]
    assert rows_read(plan, "jobs") <= len(wanted) + 1  # of the tenant's 2,000
    assert rows_read(plan, "executions") <= len(wanted) + 1


async def test_a_batch_of_steps_merged_onto_none_refuses_a_job_that_has_steps(
    young: tuple[asyncpg.Connection, str, list[str], str],
) -> None:
    """It raises, undoing itself, for the caller to merge the reports onto those steps."""
    conn, tenant, jobs, _ = young
    await conn.execute(
        """UPDATE jobs SET steps = '[{"name": "a", "status": "pending"}]' WHERE id = $1""",
        jobs[7],
    )
    with pytest.raises(asyncpg.PostgresError) as raised:
        await conn.fetch(FRESH_STEPS_END, tenant, *_stepped_ends(sorted(jobs[:10])))
    assert raised.value.sqlstate == STEPS_CHANGED
    assert str(jobs[7]) in str(raised.value)


async def test_steps_merged_onto_none_are_one_statement_stamped_with_the_write(
    pg_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jobs with no steps yet take no lock transaction, and their steps the time the job ended;
    a job with steps takes the transaction, its reports merged onto them."""
    locked: list[int] = []
    real = postgres_hot_path._stepped_end

    async def spy(*args: Any) -> Any:
        locked.append(len(args[2].batch))
        return await real(*args)

    monkeypatch.setattr(postgres_hot_path, "_stepped_end", spy)
    reports = [{"name": "load", "status": "in_progress"}, {"name": "save", "status": "skipped"}]
    store = open_store(pg_db_url)
    try:
        tenant = (await store.tenant_create("acme")).id
        for declared, transactions in (([], []), (["save"], [1])):
            (job,) = await add_jobs(store, tenant, 1, steps=declared)
            assert len(await claim(store, tenant)) == 1
            (done,) = await store.execution_update_many(
                tenant, [ExecutionUpdate(job.id, 1, ExecutionStatus.SUCCEEDED, steps=reports)]
            )
            assert done.applied
            assert locked == transactions
            after = await current(store, tenant, job.id)
            assert after.completed_at is not None
            steps = {s["name"]: s for s in after.steps}
            assert list(steps) == (["load", "save"] if not declared else ["save", "load"])
            assert steps["load"]["status"] == "in_progress"
            assert datetime.fromisoformat(steps["load"]["started_at"]) == after.completed_at
            assert steps["load"]["completed_at"] is None
            assert datetime.fromisoformat(steps["save"]["completed_at"]) == after.completed_at
    finally:
        await store.close()


async def test_a_claim_writes_its_jobs_in_place(
    young: tuple[asyncpg.Connection, str, list[str], str],
) -> None:
    """A claim moves its jobs from queued to in_progress, one stage (migration 0014): no index
    of the job row changes, and the page has room, so each job is written in place ("heap-only",
    with no new index entries). An index that named the status would undo that."""
    conn, tenant, _, _ = young
    sql = EXECUTION_CLAIM_WITH_KILLS.format(
        conditions="e.tenant_id = $1 AND e.status = 'queued' AND e.available_at <= now()"
        " AND e.queue = $9"
    )
    async with conn.transaction():
        leased = await conn.fetch(sql, tenant, 50, 30, "w-1", None, None, None, None, "default")
        written = await conn.fetchrow(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'jobs'"
        )
    assert len(leased) == 50
    assert (written["n_tup_upd"], written["n_tup_hot_upd"]) == (50, 50)


async def test_a_list_of_running_jobs_reads_them_and_not_the_queue(
    young: tuple[asyncpg.Connection, str, list[str], str], pg_db_url: str
) -> None:
    """Queued and running jobs are one stage in the job row's indexes (migration 0014): a
    filter on running jobs starts from the running executions, not the queue of 2,000."""
    conn, tenant, jobs, _ = young
    running = jobs[:2]
    await conn.execute(
        "UPDATE executions SET status = 'in_progress' WHERE job_id = ANY($1::uuid[])", running
    )
    await conn.execute("UPDATE jobs SET status = 'in_progress' WHERE id = ANY($1::uuid[])", running)
    await conn.execute("ANALYZE")  # a queue this long has been analyzed (autovacuum)
    store = open_store(pg_db_url)
    try:
        assert isinstance(store, PostgresStore)
        listed = await store.job_list(tenant, JobFilter(statuses=[JobStatus.IN_PROGRESS]))
        flt = JobFilter(statuses=[JobStatus.IN_PROGRESS, JobStatus.CANCELING])
        conds = store._list_conditions(tenant, flt)
        stmt = _job_with_latest().where(*conds).order_by(tables.jobs.c.id.desc()).limit(100)
        sql = str(stmt.compile(store.engine, compile_kwargs={"literal_binds": True}))
    finally:
        await store.close()
    (text,) = await conn.fetchrow("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
    plan = json.loads(text)[0]["Plan"]
    assert sorted(j.id for j in listed) == sorted(running)
    assert rows_read(plan, "jobs") <= 2
