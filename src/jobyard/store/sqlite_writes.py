"""Write transactions run whole on the database's thread: one trip each.

aiosqlite runs every call on the connection's own thread; a transaction of several statements
through SQLAlchemy is a trip a statement (and one to begin, one to commit), and between the
trips the event loop runs the server's other work while the one write lock is held (on a busy
server, a quarter to a third of the time it was held). The hot paths' writes (`sqlite_claims`,
`sqlite_job_inserts`, `sqlite_hot_path`) are functions of the `sqlite3` connection instead,
run with `BEGIN IMMEDIATE` and `COMMIT` in one trip.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from jobyard.store.sqlite_driver import Connection

T = TypeVar("T")


def _in_transaction(db: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    db.execute("BEGIN IMMEDIATE")
    try:
        result = work(db)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return result


async def in_write_transaction(conn: AsyncConnection, work: Callable[[sqlite3.Connection], T]) -> T:
    """`work(db)` in a write transaction of its own (`BEGIN IMMEDIATE` ... `COMMIT`), in one
    trip to the database's thread. `conn` has no transaction of its own open; the caller holds
    the store's write lock."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    if not isinstance(driver, Connection):
        raise TypeError(f"not a connection of this driver: {driver!r}")
    trip: Any = driver._execute  # aiosqlite's own: queue a call on its thread
    result: T = await trip(_in_transaction, driver._conn, work)
    return result


class SqliteWrites:
    """What the hot paths' mixins share: a write of theirs in one trip, under the store's write
    lock (`SqliteStore` has both)."""

    engine: AsyncEngine
    _write_lock: asyncio.Lock

    async def _write_trip(self, work: Callable[[sqlite3.Connection], T]) -> T:
        async with self._write_lock, self.engine.connect() as conn:
            return await in_write_transaction(conn, work)


__all__ = ["SqliteWrites", "in_write_transaction"]
