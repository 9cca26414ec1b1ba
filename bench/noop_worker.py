"""The worker the benchmarks run: handlers that do nothing, or only what is measured.

    jobyard worker bench.noop_worker:worker --queue bench --concurrency 32

With nothing to do in the handlers, what is measured is the worker runtime and the server:
claims, the runner hand-off and the batched completions.

- `bench.noop` is async (it runs on the worker's event loop); `bench.noop_sync` runs in the
  worker's thread pool, as a blocking handler would. `python -m bench.lifecycle` uses them.
- `bench.record` and `bench.follow` are what `python -m bench.harness` runs, the same work as
  the peers' handlers: note when the job started and ended (`bench.harness.records`).
  `bench.follow` also does what following a job costs: two steps, progress, 10 log lines.
"""

from __future__ import annotations

import time

from bench.harness import records
from jobyard import JobContext, Worker

LOG_LINES = 10

worker = Worker(queues=["bench"], concurrency=32, lease_s=300, wait_s=5.0)


@worker.handler("bench.noop")
async def noop(ctx: JobContext) -> None:
    """Returns at once: the job succeeds with no result."""


@worker.handler("bench.noop_sync")
def noop_sync(ctx: JobContext) -> None:
    """Returns at once, from a thread of the worker's pool."""


@worker.handler("bench.record")
async def record(ctx: JobContext) -> None:
    """Does nothing but note its start and end, as every system's handler does."""
    started = time.time()
    records.record(ctx.params["k"], ctx.params["t"], started)


@worker.handler("bench.follow")
async def follow(ctx: JobContext) -> None:
    """`bench.record` for a job that is followed: two steps, progress, and 10 log lines."""
    started = time.time()
    with ctx.step("read"):
        ctx.progress(0, LOG_LINES, "reading")
        for i in range(LOG_LINES):
            ctx.log(f"line {i + 1} of {LOG_LINES}: nothing to report, all is well")
    with ctx.step("write"):
        ctx.progress(LOG_LINES, LOG_LINES, "done")
    records.record(ctx.params["k"], ctx.params["t"], started)
