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
from typing import Any

import asyncpg
import pytest

from jobyard.store import open_store
from jobyard.store.postgres_statements import JOB_STEPS_LOCK
from tests.store.builders import add_jobs
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
