"""Before each benchmark run, PostgreSQL has checkpointed: the runs before it are on disk."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from bench.harness.settle import settle

from tests.support import databases

pytestmark = pytest.mark.postgres


async def _checkpoints() -> int:
    conn = await asyncpg.connect(databases.PG_ADMIN_URL)
    try:
        return int(await conn.fetchval("SELECT checkpoints_req FROM pg_stat_bgwriter"))
    finally:
        await conn.close()


def test_settling_asks_postgresql_for_a_checkpoint() -> None:
    databases.require_pg()
    before = asyncio.run(_checkpoints())
    settle(databases.PG_ADMIN_URL)
    assert asyncio.run(_checkpoints()) > before


def test_settling_without_postgresql_still_syncs() -> None:
    settle("postgresql://nobody@127.0.0.1:1/none")  # refused: nothing to wait for, no error
