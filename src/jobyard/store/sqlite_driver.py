"""aiosqlite with one hand-off to the database's thread a statement, instead of four.

aiosqlite runs every call on the connection's own thread, and SQLAlchemy's adapter makes four
calls a statement (make a cursor, execute, fetch the rows, close the cursor): four trips across
threads, each a wake-up on both sides. On a busy or slow machine they, not SQLite, were the
cost of a small transaction (an empty one took a millisecond), and under the one write lock
that made single requests queue: 100 creates a second could wait hundreds of milliseconds.
Here a statement is made, run, read whole and closed in one trip (the adapter reads every row
at once anyway: no statement of the store streams), and the adapter gets what it asks of a
cursor from what that trip brought back. Everything else is aiosqlite's.
"""

from __future__ import annotations

import asyncio
import sqlite3
import types
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

_Outcome = tuple[Any, list[Any], int, int | None]
T = TypeVar("T")


def _run(conn: sqlite3.Connection, many: bool, sql: str, parameters: Any) -> _Outcome:
    """On the connection's thread: the statement run, its rows read, its cursor closed."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class Cursor:
    """What SQLAlchemy's adapter asks of an aiosqlite cursor, from one trip a statement."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._rows: deque[Any] = deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        self._rows.clear()

    async def _trip(self, many: bool, sql: str, parameters: Any) -> Cursor:
        trip: Any = self._conn._execute  # aiosqlite's own: queue a call on its thread
        outcome: _Outcome = await trip(
            _run, self._conn._conn, many, sql, [] if parameters is None else parameters
        )
        self.description, rows, self.rowcount, self.lastrowid = outcome
        self._rows = deque(rows)
        return self

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Cursor:
        return await self._trip(False, sql, parameters)

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Cursor:
        return await self._trip(True, sql, parameters)

    async def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        n = self.arraysize if size is None else size
        return [self._rows.popleft() for _ in range(min(n, len(self._rows)))]

    async def fetchall(self) -> Sequence[Any]:
        rows, self._rows = list(self._rows), deque()
        return rows

    async def close(self) -> None:
        self._rows.clear()


class Connection(aiosqlite.Connection):
    def cursor(self) -> Cursor:  # type: ignore[override]
        """A cursor that costs no trip until its statement runs."""
        return Cursor(self)

    def submit(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """`fn(connection)` queued on the connection's thread now, behind every call queued
        before it (aiosqlite's `_execute` queues only once awaited); its answer to await."""
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        answer: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._tx.put_nowait((answer, partial(fn, self._connection)))
        return answer


def connect(database: str, *, iter_chunk_size: int = 64, **kwargs: Any) -> Connection:
    """As `aiosqlite.connect`, with the connection above."""

    def connector() -> sqlite3.Connection:
        conn: sqlite3.Connection = sqlite3.connect(database, **kwargs)
        return conn

    return Connection(connector, iter_chunk_size)


def dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The module SQLAlchemy's aiosqlite dialect takes as its driver (`module=`): aiosqlite's,
    but connecting with `connect` above."""
    module = types.ModuleType("jobyard_aiosqlite")
    for name in dir(aiosqlite):
        if not name.startswith("__"):
            setattr(module, name, getattr(aiosqlite, name))
    module.connect = connect  # type: ignore[attr-defined]
    module.Connection = Connection  # type: ignore[attr-defined]
    return AsyncAdapt_aiosqlite_dbapi(module, sqlite3)


__all__ = ["Connection", "Cursor", "connect", "dbapi"]
