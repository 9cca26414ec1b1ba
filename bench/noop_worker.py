"""The worker `python -m bench.lifecycle --drain workers` runs: handlers that do nothing.

    jobyard worker bench.noop_worker:worker --queue bench --concurrency 32

With nothing to do in the handlers, what is measured is the worker runtime and the server:
claims, the runner hand-off and the batched completions. `bench.noop` is async (it runs on the
worker's event loop); `bench.noop_sync` runs in the worker's thread pool, as a blocking handler
would.
"""

from __future__ import annotations

from jobyard import JobContext, Worker

worker = Worker(queues=["bench"], concurrency=32, lease_s=300, wait_s=5.0)


@worker.handler("bench.noop")
async def noop(ctx: JobContext) -> None:
    """Returns at once: the job succeeds with no result."""


@worker.handler("bench.noop_sync")
def noop_sync(ctx: JobContext) -> None:
    """Returns at once, from a thread of the worker's pool."""
