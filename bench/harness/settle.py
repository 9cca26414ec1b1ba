"""Before each run, the writes of the one before it are put to disk, so that they are not
written during it.

A throughput run writes a few hundred megabytes in seconds (PostgreSQL's WAL and tables, or a
SQLite file). Left dirty, the kernel writes them back during the next run, and a commit's fsync
waits behind them: in full runs, the latency run after a fast throughput run (Jobyard's and
PgQueuer's alike) had enqueue calls of 50 to 250 ms, at its 99th percentile, where the same run
on a quiet machine takes a few. Every run, of every system, starts after `sync` and a
PostgreSQL `CHECKPOINT`, off the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

import asyncpg


async def _checkpoint(admin_url: str) -> None:
    conn = await asyncpg.connect(admin_url, timeout=10)
    try:
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


def settle(admin_url: str) -> None:
    """PostgreSQL's dirty buffers written (`CHECKPOINT`), then the kernel's (`sync`)."""
    # A server that cannot checkpoint still runs; `sync` does what it can.
    with contextlib.suppress(OSError, asyncpg.PostgresError, TimeoutError):
        asyncio.run(_checkpoint(admin_url))
    os.sync()
