"""PostgreSQL for the runs: a fresh database each (`bench.lifecycle.postgres_database`, dropped
at the end even on failure), and its backends, whose CPU counts as the database's share."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from bench.harness.processes import Group
from bench.lifecycle import postgres_database


async def _fetch(admin_url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(admin_url, timeout=5)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


def backends(admin_url: str, database: str) -> Group:
    """The server processes serving connections to `database`, read anew each time."""

    def pids() -> list[int]:
        rows = asyncio.run(
            _fetch(admin_url, "SELECT pid FROM pg_stat_activity WHERE datname = $1", database)
        )
        return [int(r["pid"]) for r in rows]

    return Group(pids, tree=False)


def server_facts(admin_url: str) -> dict[str, str]:
    """Version and durability settings, for the report."""

    async def show() -> dict[str, str]:
        conn = await asyncpg.connect(admin_url, timeout=5)
        try:
            return {
                "postgresql": str(await conn.fetchval("SHOW server_version")).split()[0],
                "pg_fsync": str(await conn.fetchval("SHOW fsync")),
                "pg_synchronous_commit": str(await conn.fetchval("SHOW synchronous_commit")),
            }
        finally:
            await conn.close()

    return asyncio.run(show())


@contextmanager
def fresh_database(admin_url: str) -> Iterator[tuple[str, str]]:
    """A new database for one run; yields its URL and name."""
    with postgres_database(admin_url) as url:
        yield url, url.rsplit("/", 1)[1]
