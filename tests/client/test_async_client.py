"""`jobyard.AsyncClient` against a live server: the same calls as `Client`, awaited."""

from __future__ import annotations

import asyncio

import pytest

from jobyard import AsyncClient, NotFoundError
from jobyard.client import ExecutionUpdate
from tests.support.api import Tenant


async def test_life_cycle_and_long_poll(tenant: Tenant) -> None:
    async with AsyncClient(tenant.server.url, tenant.admin_key) as c:
        waiting = asyncio.create_task(c.claim(["async-q"], wait_s=10))
        await asyncio.sleep(0.3)
        job = await c.create_job("work", queue="async-q", params={"n": 1})
        (claimed,) = await asyncio.wait_for(waiting, timeout=5)
        assert claimed.job_id == job.id
        assert claimed.params == {"n": 1}
        done = await c.update_execution(
            ExecutionUpdate(job_id=job.id, execution_number=1, status="succeeded")
        )
        assert done.status == "succeeded"
        assert (await c.get_job(job.id)).status == "succeeded"
        assert [j.id async for j in c.iter_jobs(status="succeeded")] == [job.id]
        with pytest.raises(NotFoundError):
            await c.retry_job("not-a-job")
