"""A small worker: a quick handler, a slow one, and one that fails. The README's tour runs it.

    uv run jobyard worker examples.worker:worker

Then, in another terminal:

    uv run jobyard jobs create greet --params '{"name": "Ada"}'
    uv run jobyard jobs create sleep --params '{"seconds": 5}'
    uv run jobyard jobs create fail --max-attempts 2
"""

from __future__ import annotations

import asyncio

from jobyard import JobContext, Reject, Worker

worker = Worker(queues=["default"], concurrency=4)


@worker.handler("greet")
def greet(ctx: JobContext) -> dict[str, str]:
    """Quick: answers at once."""
    name = ctx.params.get("name")
    if not isinstance(name, str) or not name:
        raise Reject("params.name must be a non-empty string")
    return {"greeting": f"Hello, {name}!"}


@worker.handler("sleep")
async def sleep(ctx: JobContext) -> dict[str, float]:
    """Slow: sleeps for params.seconds (a kill order cancels it)."""
    seconds = float(ctx.params.get("seconds", 2))
    await asyncio.sleep(seconds)
    return {"slept": seconds}


@worker.handler("fail")
def fail(ctx: JobContext) -> None:
    """Always fails, so it is retried until its attempts run out."""
    raise RuntimeError(f"attempt {ctx.execution_number} failed on purpose")
