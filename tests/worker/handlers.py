"""The worker the worker tests run as a real process: `jobyard worker tests.worker.handlers:worker`.

Handlers leave marks in JOBYARD_TEST_MARKS (a folder), so tests can see what ran where.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from pathlib import Path

from jobyard import JobContext, Reject, Worker

worker = Worker(
    queues=["default"],
    concurrency=4,
    lease_s=int(os.environ.get("JOBYARD_TEST_LEASE_S", "30")),
    wait_s=2.0,
    grace_s=float(os.environ.get("JOBYARD_TEST_GRACE_S", "30")),
    kill_grace_s=float(os.environ.get("JOBYARD_TEST_KILL_GRACE_S", "10")),
)


def mark(ctx: JobContext, what: str) -> None:
    folder = os.environ.get("JOBYARD_TEST_MARKS")
    if folder:
        name = f"{ctx.job_id}.{ctx.execution_number}.{what}.{os.getpid()}"
        (Path(folder) / name).touch()


@worker.handler("noop")
def noop(ctx: JobContext) -> None:
    mark(ctx, "ran")


@worker.handler("echo")
async def echo(ctx: JobContext) -> dict[str, object]:
    return dict(ctx.params)


@worker.handler("boom")
def boom(ctx: JobContext) -> None:
    mark(ctx, "boom")
    raise ValueError(f"boom on attempt {ctx.execution_number}")


@worker.handler("reject")
def reject(ctx: JobContext) -> None:
    mark(ctx, "reject")
    raise Reject("the input cannot be processed")


@worker.handler("slow")
def slow(ctx: JobContext) -> dict[str, float]:
    """Sleeps params.seconds in small steps, stopping early when cancelled."""
    mark(ctx, "started")
    seconds = float(ctx.params.get("seconds", 1))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not ctx.wait_cancelled(0.05):
        pass
    mark(ctx, "finished")
    return {"slept": seconds}


@worker.handler("slow_async")
async def slow_async(ctx: JobContext) -> dict[str, float]:
    mark(ctx, "started")
    seconds = float(ctx.params.get("seconds", 1))
    await asyncio.sleep(seconds)
    mark(ctx, "finished")
    return {"slept": seconds}


@worker.handler("chatty")
def chatty(ctx: JobContext) -> dict[str, int]:
    """Writes params.lines log lines (every tenth through `logging`) and params.bad record
    errors, then succeeds."""
    n = int(ctx.params.get("lines", 100))
    for i in range(n):
        if i % 10 == 0:
            logging.getLogger("chatty").warning("line %d", i)
        else:
            ctx.log(f"line {i}")
    for i in range(int(ctx.params.get("bad", 0))):
        ctx.record_error(f"record {i} is bad", code="E_BAD", data={"i": i}, retriable=i % 2 == 0)
    return {"lines": n}


@worker.handler("chatty_async")
async def chatty_async(ctx: JobContext) -> None:
    for i in range(int(ctx.params.get("lines", 10))):
        logging.getLogger("chatty").info("async line %d", i)
        await asyncio.sleep(0)


@worker.handler("stubborn")
def stubborn(ctx: JobContext) -> None:
    """Logs, then ignores every kill order for params.seconds."""
    ctx.log("about to ignore you")
    mark(ctx, "started")
    time.sleep(float(ctx.params.get("seconds", 30)))
    ctx.log("too late")
    mark(ctx, "finished")


@worker.handler("polite")
def polite(ctx: JobContext) -> None:
    """Logs a line a tick until cancelled."""
    mark(ctx, "started")
    i = 0
    while not ctx.wait_cancelled(0.05):
        ctx.log(f"tick {i}")
        i += 1
    ctx.log("stopping as asked")


worker.command("command", [sys.executable, str(Path(__file__).with_name("command.py"))])


@worker.handler("report")
def report(ctx: JobContext) -> dict[str, int]:
    """Three steps, progress, counters, many log lines and record errors, all as asked."""
    lines, bad = int(ctx.params["lines"]), int(ctx.params["bad"])
    with ctx.step("extract") as step:
        for i in range(lines):
            ctx.log(f"line {i}")
        step.result = {"type": "link", "url": "https://example.com/extract"}
    with ctx.step("transform"):
        for i in range(bad):
            ctx.record_error(f"record {i} is bad", code="E_BAD", data={"i": i})
            if i % 500 == 0:
                ctx.progress(i, bad, "transforming")
        ctx.count(success=lines - bad, error=bad, pages=3)
    ctx.skip_step("load")
    ctx.progress(bad, bad, "done")
    return {"lines": lines}
