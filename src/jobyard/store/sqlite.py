"""The embedded backend: one SQLite file in WAL mode, one writer at a time."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from jobyard.store import sqlite_driver
from jobyard.store.basiq_user_queries import BasiqUserQueries
from jobyard.store.bulk_outcomes import Columns
from jobyard.store.bulk_updates import Key
from jobyard.store.exclusive_inserts import ExclusiveInserts
from jobyard.store.family_queries import FamilyQueries
from jobyard.store.fleet_queries import FleetQueries
from jobyard.store.log_queries import LogQueries
from jobyard.store.record_error_queries import RecordErrorQueries
from jobyard.store.sqlite_claims import SqliteClaims
from jobyard.store.sqlite_hot_path import SqliteHotPath
from jobyard.store.sqlite_job_inserts import SqliteJobInserts
from jobyard.store.tables import jobs
from jobyard.store.types import UtcDateTime


def _enter_wal(cur: Any, tries: int = 50) -> None:
    """Switch the file to WAL (once: the mode is kept in the file). Switching needs the file to
    itself, and SQLite answers "locked" at once, without its busy handler, while another
    connection is opening it: so try again for a few seconds."""
    for attempt in range(tries):
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if attempt == tries - 1:
                raise
            time.sleep(0.1)


def _json_loads(value: str | bytes | float) -> Any:
    """A JSON column has NUMERIC affinity in SQLite, which stores a top-level JSON number as
    a number: it comes back as one, not as text to parse."""
    if isinstance(value, int | float):
        return value
    return orjson.loads(value)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class SqliteStore(
    SqliteClaims,
    SqliteJobInserts,
    SqliteHotPath,
    LogQueries,
    RecordErrorQueries,
    ExclusiveInserts,
    FamilyQueries,
    FleetQueries,
    BasiqUserQueries,
):
    """SQLite allows one writer; an asyncio lock queues our writers in-process instead of letting
    them meet SQLite's busy handler, and `BEGIN IMMEDIATE` takes the write lock up front so a
    transaction never fails half-way on an upgrade from read to write."""

    dialect = "sqlite"

    def __init__(self, url: str) -> None:
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = self._engine(url)
        # The one connection that writes: writes queue for it anyway, and a connection whose
        # file another connection has written must drop its whole page cache at its next
        # transaction (WAL), which a pool of writers took turns to do, reading every page back.
        self.write_engine = self._engine(url, pool_size=1, max_overflow=0)

        super().__init__(engine, url)
        self._write_lock = asyncio.Lock()

    @staticmethod
    def _engine(url: str, **pool: int) -> AsyncEngine:
        engine = create_async_engine(
            url.replace("sqlite://", "sqlite+aiosqlite://", 1),
            json_serializer=_json_dumps,
            json_deserializer=_json_loads,
            module=sqlite_driver.dbapi(),
            # Connection.close rolls back what it began; the pool's own rollback on every
            # return would be one more trip to the database's thread, for nothing.
            pool_reset_on_return=None,
            **pool,
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=10000")  # first: the next pragma may have to wait
            _enter_wal(cur)
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

        return engine

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        async with self._write_lock, self.write_engine.connect() as conn:
            conn.sync_connection.info["write"] = True  # type: ignore[union-attr]
            try:
                async with conn.begin():
                    yield conn
            finally:
                conn.sync_connection.info.pop("write", None)  # type: ignore[union-attr]

    async def close(self) -> None:
        await self.write_engine.dispose()
        await super().close()

    async def upgrade(self) -> None:
        """Migrate under the write lock and `BEGIN IMMEDIATE`: one migrator at a time, in this
        process and across processes, as the advisory lock does on PostgreSQL. A plain BEGIN
        lets two starts both read an empty schema, and one then fails with "database is
        locked"."""
        from jobyard.store.migrate import upgrade_connection  # alembic is loaded only when needed

        async with self._write() as conn:
            await conn.run_sync(upgrade_connection)

    def _now(self) -> sa.ColumnElement[datetime]:
        return sa.literal(datetime.now(UTC), UtcDateTime)

    def _now_plus(self, seconds: sa.ColumnElement[Any] | float) -> sa.ColumnElement[datetime]:
        base = sa.literal(datetime.now(UTC).timestamp(), sa.Float)
        return sa.type_coerce(base + seconds, UtcDateTime)

    def _per_row(self, name: str, columns: Columns, values: list[tuple[Any, ...]]) -> sa.FromClause:
        """The rows as one JSON array, read back with `json_each`. A VALUES list would do, but
        SQLAlchemy compiles it anew for every batch, which costs more than the write itself;
        this statement is the same for every batch. Values go in as each column's type binds
        them (a uuid as its hex, a JSON value as its text)."""
        columns_of = list(zip(*values, strict=True)) or [() for _ in columns]
        processed = [
            self._bound(type_, column)
            for (_, type_), column in zip(columns, columns_of, strict=True)
        ]
        data = list(zip(*processed, strict=True))
        each = sa.func.json_each(sa.bindparam(name, _json_dumps(data), sa.String)).table_valued(
            "value"
        )
        cols = [
            sa.type_coerce(sa.func.json_extract(each.c.value, f"$[{i}]"), type_).label(column)
            for i, (column, type_) in enumerate(columns)
        ]
        return sa.select(*cols).select_from(each).subquery(name)

    def _bound(self, type_: sa.types.TypeEngine[Any], column: Sequence[Any]) -> Sequence[Any]:
        """One column's values as its type binds them; an id once however often it repeats (a
        job's id on each of its lines)."""
        bind = type_.bind_processor(self.engine.dialect)
        if bind is None:
            return column
        if isinstance(type_, sa.Uuid):
            known: dict[Any, Any] = {}
            return [
                None if v is None else known[v] if v in known else known.setdefault(v, bind(v))
                for v in column
            ]
        return [None if v is None else bind(v) for v in column]

    async def _lock_in_key_order(
        self, conn: AsyncConnection, tenant_id: str, keys: list[Key]
    ) -> None:
        """Nothing to order: `BEGIN IMMEDIATE` makes a write transaction the only writer."""

    def _label_condition(self, key: str, value: str) -> sa.ColumnElement[bool]:
        path = '$."' + key.replace('"', "") + '"'
        return sa.func.json_extract(jobs.c.labels, path) == value
