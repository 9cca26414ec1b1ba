"""How a worker asks for work: a worker that fills up again and again keeps one long poll for
kill orders open, rather than starting one (and dropping it, with its connection) each time."""

from __future__ import annotations

import asyncio
import time

import pytest

from jobyard import AsyncClient, JobContext, Worker
from jobyard.worker import runtime
from tests.support.api import Tenant
from tests.worker.recording import Sent, recording


async def test_a_worker_full_many_times_over_keeps_one_kill_order_poll(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: Sent = []
    monkeypatch.setattr(runtime, "AsyncClient", recording(sent))
    # One place and nothing prefetched: each job fills the worker, 40 times in all.
    worker = Worker(
        ["full"],
        concurrency=1,
        prefetch=0,
        wait_s=5.0,
        url=tenant.server.url,
        api_key=tenant.admin_key,
    )

    @worker.handler("quick")
    async def quick(ctx: JobContext) -> None:
        await asyncio.sleep(0.005)

    async with AsyncClient(tenant.server.url, tenant.admin_key) as client:
        await client.create_job_ids([{"type": "quick", "queue": "full"}] * 40)
        running = asyncio.create_task(worker.run_async())
        deadline = time.monotonic() + 60
        try:
            while len((await client.list_jobs(queue="full", status="succeeded")).items) < 40:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.1)
        finally:
            worker.stop()
            await running

    claims = [path for _, path, _ in sent if path == "/v1/claims"]
    polls = [path for _, path, _ in sent if path.endswith("/kill-orders")]
    assert len(claims) >= 40  # it was full after every job
    assert 1 <= len(polls) <= 3, len(polls)  # 5 s polls, each left open across many jobs
