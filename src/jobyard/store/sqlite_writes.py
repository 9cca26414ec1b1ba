"""Write transactions run whole on the writing connection's thread, one after another.

SQLite has one writer, so how long each write holds it is the server's throughput. Two things
made it longer than the write itself. Through SQLAlchemy, a transaction of several statements
is a trip to the database's thread a statement (and one to begin, one to commit), and between
trips the event loop runs the server's other work while the lock is held. And with the lock an
asyncio one, given from one write to the next by the event loop, each write waited for the loop
to come round to it, after the requests it was parsing (on a busy server, a fifth to a quarter
of the time the lock was held, the writing thread idle).

So the store has one connection that writes (`SqliteStore.write_engine`), and the hot paths'
writes (`sqlite_claims`, `sqlite_job_inserts`, `sqlite_hot_path`) are functions of its `sqlite3`
connection, run with `BEGIN IMMEDIATE` and `COMMIT` in one call on its thread. Under the store's
write lock a write is only queued there; the lock is given back at once, and the thread runs the
queued writes back to back. A write through SQLAlchemy (`SqliteStore._write`) holds the lock and
the same connection for its whole transaction: its statements queue behind the writes queued
before it, and none queued after can come between them.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

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


class SqliteWrites:
    """What the hot paths' mixins share: a write of theirs in one trip (`SqliteStore` has the
    engine and the lock)."""

    write_engine: AsyncEngine
    _write_lock: asyncio.Lock

    async def _write_trip(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work(db)` in a write transaction of its own (`BEGIN IMMEDIATE` ... `COMMIT`), on
        the writing connection's thread; its answer once committed."""
        async with self._write_lock, self.write_engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            if not isinstance(driver, Connection):
                raise TypeError(f"not a connection of this driver: {driver!r}")
            answer = driver.submit(lambda db: _in_transaction(db, work))
        return await answer


__all__ = ["SqliteWrites"]
