"""The SQLite driver: one trip to the database's thread a statement, with what a cursor tells."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from jobyard.store import sqlite_driver


async def test_a_statement_is_one_trip_and_its_cursor_tells_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips: list[Any] = []
    queue: Any = sqlite_driver.Connection._execute  # aiosqlite's: a call on its thread

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(fn)
        return await queue(self, fn, *args, **kwargs)

    monkeypatch.setattr(sqlite_driver.Connection, "_execute", counted)
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        module=sqlite_driver.dbapi(),
        pool_reset_on_return=None,
    )
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            trips.clear()
            added = await conn.exec_driver_sql("INSERT INTO t (v) VALUES (?)", ("a",))
            assert (added.rowcount, added.lastrowid) == (1, 1)
            assert len(trips) == 1
            await conn.exec_driver_sql("INSERT INTO t (v) VALUES (?)", [("b",), ("c",)])
            trips.clear()
            read = await conn.execute(sa.text("SELECT id, v FROM t ORDER BY id"))
            assert [tuple(r) for r in read] == [(1, "a"), (2, "b"), (3, "c")]
            assert list(read.keys()) == ["id", "v"]
            assert len(trips) == 1, "run, read and closed in one trip"
            one = await conn.execute(sa.text("SELECT v FROM t WHERE id = 9"))
            assert one.first() is None
            await conn.commit()
            with pytest.raises(sa.exc.IntegrityError):
                await conn.exec_driver_sql("INSERT INTO t (id, v) VALUES (1, 'again')")
            await conn.rollback()
            count = await conn.scalar(sa.text("SELECT count(*) FROM t"))
            assert count == 3
    finally:
        await engine.dispose()
