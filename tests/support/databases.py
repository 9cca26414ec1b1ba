"""Databases for tests: each run gets its own PostgreSQL databases, never shared with another run.

Tests that need PostgreSQL skip when none answers locally; under CI=true they fail instead, so a
green CI run always means the PostgreSQL half ran.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg
import pytest

PG_ADMIN_URL = os.environ.get("JOBYARD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
RUN_ID = uuid.uuid4().hex[:10]


def _base() -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0]


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg_available() -> bool:
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


def require_pg() -> None:
    if pg_available():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("PostgreSQL is required under CI=true but does not answer on " + PG_ADMIN_URL)
    pytest.skip("PostgreSQL is not running here")


def create_database(template: str | None = None) -> tuple[str, str]:
    """A new, empty (or templated) database; answers its name and URL."""
    name = f"jobyard_t_{RUN_ID}_{uuid.uuid4().hex[:8]}"
    tmpl = f" TEMPLATE {template}" if template else ""
    asyncio.run(_admin(f"CREATE DATABASE {name}{tmpl}"))
    return name, f"{_base()}/{name}"


def drop_database(name: str) -> None:
    asyncio.run(_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
