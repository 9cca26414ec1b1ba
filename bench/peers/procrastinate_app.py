"""Procrastinate on PostgreSQL: the task, the producer and the checks.

    procrastinate --app bench.peers.procrastinate_app.app worker --queues bench --concurrency 16

An async task, and workers that run several at once (`--concurrency`) and wake on
LISTEN/NOTIFY (the default). A batch is one `batch_defer_async` (one INSERT of many rows); a
single job one `defer_async`. Finished jobs stay in their table (the default), as in Jobyard.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import procrastinate  # type: ignore[import-not-found, unused-ignore]

from bench.harness import produce, records
from bench.peers.commands import Peer, main

QUEUE = os.environ.get("BENCH_QUEUE", "bench")

app = procrastinate.App(
    connector=procrastinate.PsycopgConnector(conninfo=os.environ.get("BENCH_PG_DSN", ""))
)


async def record(k: int, t: float) -> None:
    records.record(k, t, time.time())


record_task = app.task(name="bench.record", queue=QUEUE)(record)


class ProcrastinateSink:
    async def enqueue_many(self, jobs: list[tuple[int, float]]) -> None:
        await record_task.batch_defer_async(*({"k": k, "t": t} for k, t in jobs))

    async def enqueue_one(self, key: int, at: float) -> None:
        await record_task.defer_async(k=key, t=at)

    async def close(self) -> None:
        await app.close_async()


async def connect(plan: produce.Plan) -> produce.Sink:
    await app.open_async()
    return ProcrastinateSink()


async def _fetch(sql: str) -> list[Any]:
    async with app.open_async():
        return list(await app.connector.execute_query_all_async(sql))


async def prepare() -> None:
    async with app.open_async():
        await app.schema_manager.apply_schema_async()


async def ready(n: int) -> str:
    rows = await _fetch("SELECT count(*) AS n FROM procrastinate_workers")
    found = rows[0]["n"]
    return "" if found >= n else f"{found} of {n} Procrastinate workers registered"


async def verify(n: int) -> str:
    rows = await _fetch(
        "SELECT status::text AS status, count(*) AS n FROM procrastinate_jobs GROUP BY 1"
    )
    counts = {r["status"]: r["n"] for r in rows}
    return "" if counts == {"succeeded": n} else f"Procrastinate jobs by status: {counts}"


PEER = Peer(connect=connect, prepare=prepare, ready=ready, verify=verify)

if __name__ == "__main__":
    sys.exit(main(PEER))
