"""Following a job through the SDK: logs, live tail, record errors, the primary error."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx

from jobyard import AsyncClient, Client
from jobyard.client import ExecutionUpdate
from tests.support.api import Tenant


def test_tail_read_and_record_errors(tenant: Tenant) -> None:
    with Client(tenant.server.url, tenant.admin_key) as c:
        job = c.create_job("work", queue="follow", max_attempts=1)
        seen: list[str] = []
        tail = threading.Thread(target=lambda: seen.extend(e.data for e in c.tail_logs(job.id)))
        tail.start()
        (claimed,) = c.claim(["follow"])
        for chunk in range(3):
            last = c.append_logs(job.id, 1, [{"data": f"{chunk}-{i}"} for i in range(100)])
            assert last == (chunk + 1) * 100
        c.append_record_errors(
            job.id, 1, [{"message": "bad", "data": {"row": i}} for i in range(3)]
        )
        assert c.primary_error(job.id) is None
        c.update_execution(
            ExecutionUpdate(
                job_id=claimed.job_id,
                execution_number=1,
                status="failed",
                error={"code": "E", "message": "broke"},
            )
        )
        tail.join(20)
        assert not tail.is_alive()
        assert seen == [f"{c_}-{i}" for c_ in range(3) for i in range(100)]
        assert [e.seq for e in c.read_logs(job.id, limit=2).entries] == [299, 300]
        assert len(list(c.iter_logs(job.id))) == 300
        errors = list(c.iter_record_errors(job.id))
        assert [e.data for e in errors] == [{"row": i} for i in range(3)]
        assert c.resolve_record_errors(job.id) == 3
        link = c.record_errors_file_url(job.id, "csv")
        assert httpx.get(tenant.server.url + link.url).text.count("\n") == 4
        error = c.primary_error(job.id)
        assert error is not None
        assert (error.code, error.message) == ("E", "broke")


async def test_async_tail(tenant: Tenant) -> None:
    async with AsyncClient(tenant.server.url, tenant.admin_key) as c:
        job = await c.create_job("work", queue="follow-async")

        async def collect() -> list[int]:
            return [e.seq async for e in c.tail_logs(job.id)]

        tail = asyncio.create_task(collect())
        await asyncio.sleep(0.2)
        await c.claim(["follow-async"])
        await c.append_logs(job.id, 1, [{"data": str(i)} for i in range(50)])
        start = time.monotonic()
        await c.update_execution(
            ExecutionUpdate(job_id=job.id, execution_number=1, status="succeeded")
        )
        assert await asyncio.wait_for(tail, 20) == list(range(1, 51))
        assert time.monotonic() - start < 5
