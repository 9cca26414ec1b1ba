"""PgQueuer on PostgreSQL: the entrypoint, the producer and the checks.

    pgq run bench.peers.pgqueuer_app:create --batch-size 10 --log-level WARNING

The asyncpg driver (PgQueuer's benchmark notes find it about twice as fast as psycopg), async
entrypoints, workers woken by LISTEN/NOTIFY, the default (durable) tables. A batch is one
`Queries.enqueue` of lists (one INSERT); a single job one `enqueue` of scalars.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from pgqueuer import PgQueuer  # type: ignore[import-not-found, unused-ignore]
from pgqueuer.db import AsyncpgDriver  # type: ignore[import-not-found, unused-ignore]
from pgqueuer.queries import Queries  # type: ignore[import-not-found, unused-ignore]

from bench.harness import produce, records
from bench.peers.commands import Peer, main

ENTRYPOINT = "bench.record"


def _dsn() -> str:
    return os.environ["BENCH_PG_DSN"]


async def record(job: Any) -> None:
    started = time.time()
    k, t = job.payload.split()
    records.record(int(k), float(t), started)


@asynccontextmanager
async def create() -> AsyncIterator[Any]:
    """The factory `pgq run` enters: a PgQueuer with the benchmark's one entrypoint."""
    conn = await asyncpg.connect(_dsn())
    try:
        pgq = PgQueuer(AsyncpgDriver(conn))
        pgq.entrypoint(ENTRYPOINT)(record)
        records.mark_ready()
        yield pgq
    finally:
        await conn.close()


def _payload(k: int, t: float) -> bytes:
    return f"{k} {t:.6f}".encode()


class PgQueuerSink:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.queries = Queries(AsyncpgDriver(conn))
        self.one_at_a_time = asyncio.Lock()  # one connection runs one query at a time

    async def enqueue_many(self, jobs: list[tuple[int, float]]) -> None:
        await self.queries.enqueue(
            [ENTRYPOINT] * len(jobs), [_payload(k, t) for k, t in jobs], [0] * len(jobs)
        )

    async def enqueue_one(self, key: int, at: float) -> None:
        async with self.one_at_a_time:
            await self.queries.enqueue(ENTRYPOINT, _payload(key, at))

    async def close(self) -> None:
        await self.conn.close()


async def connect(plan: produce.Plan) -> produce.Sink:
    return PgQueuerSink(await asyncpg.connect(_dsn()))


async def _fetchval(sql: str) -> Any:
    conn = await asyncpg.connect(_dsn())
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def prepare() -> None:
    conn = await asyncpg.connect(_dsn())
    try:
        await Queries(AsyncpgDriver(conn)).install()
    finally:
        await conn.close()


def ready(n: int) -> str:
    found = records.ready_count()
    return "" if found >= n else f"{found} of {n} PgQueuer workers ready"


async def verify(n: int) -> str:
    left = await _fetchval("SELECT count(*) FROM pgqueuer")
    return "" if left == 0 else f"{left} jobs left in PgQueuer's queue table"


PEER = Peer(connect=connect, prepare=prepare, ready=ready, verify=verify)

if __name__ == "__main__":
    sys.exit(main(PEER))
