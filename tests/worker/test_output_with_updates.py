"""What handlers write travels with their executions' updates: no request of its own, every
line in order, the completion after them (in the same update as the last of them)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from jobyard import AsyncClient, JobContext, Worker
from jobyard.worker import runtime
from tests.support.api import Tenant
from tests.worker.recording import Sent, recording


async def run_until_done(worker: Worker, client: AsyncClient, job_ids: list[str]) -> None:
    running = asyncio.create_task(worker.run_async())
    deadline = time.monotonic() + 60
    try:
        while True:
            jobs = [await client.get_job(j) for j in job_ids]
            if all(j.status == "succeeded" for j in jobs):
                return
            assert time.monotonic() < deadline, [j.status for j in jobs]
            await asyncio.sleep(0.1)
    finally:
        worker.stop()
        assert await asyncio.wait_for(running, 30) == 0


def updates_of(sent: Sent, job_id: str) -> list[dict[str, Any]]:
    """The updates sent for one job, in the order they were sent."""
    return [
        u
        for method, path, body in sent
        if (method, path) == ("POST", "/v1/executions/batch")
        for u in body["updates"]
        if u["job_id"] == job_id
    ]


async def test_lines_ride_with_updates_and_the_completion_comes_after_them(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: Sent = []
    monkeypatch.setattr(runtime, "AsyncClient", recording(sent))
    worker = Worker(
        ["followed"], concurrency=8, wait_s=1.0, url=tenant.server.url, api_key=tenant.admin_key
    )

    @worker.handler("short")
    async def short(ctx: JobContext) -> dict[str, int]:
        n = ctx.params["n"]
        with ctx.step("read"):
            ctx.progress(0, 10, "reading")
            for i in range(10):
                ctx.log(f"job {n}: line {i}")
        ctx.record_error("a bad row", code="E", data={"job": n})
        return {"n": n}

    @worker.handler("long")
    def long(ctx: JobContext) -> None:
        for i in range(2500):  # more than one update carries
            ctx.log(f"long line {i}", source="stderr" if i % 2 else "stdout")
            if i == 1200:
                time.sleep(0.6)  # a running job's lines go out on their own before the end

    async with AsyncClient(tenant.server.url, tenant.admin_key) as c:
        shorts = await c.create_jobs(
            [{"type": "short", "queue": "followed", "params": {"n": n}} for n in range(40)]
        )
        chatty = await c.create_job("long", queue="followed")
        await run_until_done(worker, c, [j.id for j in [*shorts, chatty]])

        paths = {path for _, path, _ in sent}
        assert not [p for p in paths if p.endswith(("/logs", "/record-errors"))], paths

        for job in shorts:
            n = job.params["n"]
            lines = [e async for e in c.iter_logs(job.id)]
            assert [(e.seq, e.data) for e in lines] == [
                (i + 1, f"job {n}: line {i}") for i in range(10)
            ]
            errors = [e async for e in c.iter_record_errors(job.id)]
            assert [(e.code, e.data) for e in errors] == [("E", {"job": n})]
            assert (await c.get_job(job.id)).steps[0]["status"] == "succeeded"
            *_, last = updates_of(sent, job.id)
            assert last["status"] == "succeeded"
            assert last["logs"][-1]["data"] == f"job {n}: line 9"

        lines = [e async for e in c.iter_logs(chatty.id)]
        assert [e.data for e in lines] == [f"long line {i}" for i in range(2500)]
        assert [e.source for e in lines[:2]] == ["stdout", "stderr"]
        assert [e.seq for e in lines] == list(range(1, 2501))
        updates = updates_of(sent, chatty.id)
        carried = [len(u.get("logs", [])) for u in updates]
        assert max(carried) <= 1000
        assert sum(carried) == 2500
        assert updates[-1]["status"] == "succeeded"
        assert all("status" not in u for u in updates[:-1])
        assert len(updates) >= 4  # some before the end, then the rest in pieces of 1,000


async def test_output_the_server_refuses_costs_no_other_report(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record error the server cannot keep (a NUL in its data) is dropped, alone: its job's
    lines and completion, and the other jobs' reports in the same request, all arrive."""
    sent: Sent = []
    monkeypatch.setattr(runtime, "AsyncClient", recording(sent))
    worker = Worker(
        ["odd"], concurrency=4, wait_s=1.0, url=tenant.server.url, api_key=tenant.admin_key
    )

    @worker.handler("odd")
    async def odd(ctx: JobContext) -> None:
        ctx.log("before\x00after")  # kept, the NUL replaced
        if ctx.params["bad"]:
            ctx.record_error("unkeepable", data={"text": "a\x00b"})
        else:
            ctx.record_error("fine", data={"n": 1})

    async with AsyncClient(tenant.server.url, tenant.admin_key) as c:
        jobs = await c.create_jobs(
            [{"type": "odd", "queue": "odd", "params": {"bad": i == 1}} for i in range(3)]
        )
        await run_until_done(worker, c, [j.id for j in jobs])
        for job in jobs:
            assert [e.data async for e in c.iter_logs(job.id)] == ["before\ufffdafter"]
            kept = [e.message async for e in c.iter_record_errors(job.id)]
            assert kept == ([] if job.params["bad"] else ["fine"])


async def test_a_handler_s_last_lines_go_with_its_end_however_often_output_goes_out(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Output sent on every turn of the event loop still never takes the lines a handler
    wrote last ahead of its completion: the end carries them, async handlers and sync ones."""
    sent: Sent = []
    monkeypatch.setattr(runtime, "AsyncClient", recording(sent))
    monkeypatch.setattr(runtime, "OUTPUT_INTERVAL_S", 0)
    worker = Worker(
        ["eager"], concurrency=8, wait_s=1.0, url=tenant.server.url, api_key=tenant.admin_key
    )

    @worker.handler("in-task")
    async def in_task(ctx: JobContext) -> None:
        ctx.log("first")
        await asyncio.sleep(0.05)  # "first" went out and was answered
        ctx.log("last")

    @worker.handler("in-thread")
    def in_thread(ctx: JobContext) -> None:
        ctx.log("first")
        time.sleep(0.05)
        ctx.log("last")

    async with AsyncClient(tenant.server.url, tenant.admin_key) as c:
        jobs = await c.create_jobs(
            [{"type": t, "queue": "eager"} for t in ["in-task", "in-thread"] * 15]
        )
        await run_until_done(worker, c, [j.id for j in jobs])

    for job in jobs:
        *_, end = updates_of(sent, job.id)
        assert end["status"] == "succeeded"
        assert [e["data"] for e in end.get("logs", [])][-1:] == ["last"], job.type
