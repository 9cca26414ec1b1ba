"""SQLite's hot path for ends: a batch of followed ends is a few statements, however large.

What it writes is compared with the general path in `test_bulk_updates.py` (on both backends);
here, that SQLite takes it: the write lock is held for a handful of statements, not several per
row, and another tenant's rows are never touched.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

import sqlalchemy as sa
from sqlalchemy import event

from jobyard.domain.entities import ExecutionUpdate, NewLogEntry, WorkerIdentity
from jobyard.domain.states import ExecutionStatus
from jobyard.store import open_store, sqlite_writes
from jobyard.store.sql_store import SqlStoreBase
from jobyard.store.sqlite import SqliteStore
from tests.store.builders import add_jobs, claim

ES = ExecutionStatus
W1 = WorkerIdentity(id="w-1")


class _Recording:
    """A `sqlite3` connection that notes each statement before it runs it."""

    def __init__(self, db: sqlite3.Connection, note: Callable[[str], None]) -> None:
        self.db, self.note = db, note

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        self.note(sql)
        return self.db.execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:
        self.note(sql)
        return self.db.executemany(sql, *args)

    def getlimit(self, category: int) -> int:
        return self.db.getlimit(category)


@contextmanager
def statements(store: SqlStoreBase) -> Iterator[list[str]]:
    """The statements the store runs meanwhile: through SQLAlchemy, and in the writes made in
    one trip to the database's thread (`sqlite_writes`), their BEGIN and COMMIT included."""
    seen: list[str] = []

    def note(statement: str) -> None:
        seen.append(" ".join(statement.split())[:40])

    def noted(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        note(statement)

    original = sqlite_writes._in_transaction

    def recorded(db: sqlite3.Connection, work: Callable[[Any], Any]) -> Any:
        return original(_Recording(db, note), work)  # type: ignore[arg-type]

    engines = [store.engine.sync_engine]
    if isinstance(store, SqliteStore):  # its writes through SQLAlchemy: on the writing engine
        engines.append(store.write_engine.sync_engine)
    for engine in engines:
        event.listen(engine, "before_cursor_execute", noted)
    try:
        with patch.object(sqlite_writes, "_in_transaction", recorded):
            yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", noted)


def followed_end(job_id: str) -> ExecutionUpdate:
    return ExecutionUpdate(
        job_id,
        1,
        ES.SUCCEEDED,
        worker_id=W1.id,
        steps=[{"name": "read", "status": "in_progress"}, {"name": "read", "status": "succeeded"}],
        progress={"current": 2, "total": 2, "message": "done"},
        counters={"num_success": 2},
        logs=[NewLogEntry("stdout", f"line {i}", datetime.now(UTC)) for i in range(3)],
    )


async def test_a_batch_of_followed_ends_is_a_few_statements_however_large(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'jobyard.db'}")
    assert isinstance(store, SqlStoreBase)
    await store.upgrade()
    try:
        tenant_id = (await store.tenant_create("acme")).id
        other = (await store.tenant_create("globex")).id
        (theirs,) = await add_jobs(store, other, 1, queue="q")
        counts = []
        for n in (2, 60):
            made = await add_jobs(store, tenant_id, n, queue="q")
            await claim(store, tenant_id, ("q",), max=n, worker=W1)
            with statements(store) as seen:
                outcomes = await store.execution_update_many(
                    tenant_id, [followed_end(j.id) for j in made]
                )
            assert all(o.applied and o.log_lines == 3 for o in outcomes)
            counts.append(len(seen))
            for job in made:
                after = await store.job_get(tenant_id, job.id)
                assert after is not None
                assert after.status.value == "succeeded"
                assert after.counters["num_success"] == 2
                assert after.steps[0]["status"] == "succeeded"
                lines = await store.log_list(tenant_id, job.id, after=0, limit=10)
                assert [e.data for e in lines] == ["line 0", "line 1", "line 2"]
        assert counts[0] == counts[1] == 5, counts  # BEGIN, executions, jobs, lines, COMMIT
        async with store.engine.connect() as conn:  # the other tenant's job is as it was
            chunks = await conn.scalar(sa.text("SELECT count(*) FROM log_chunks"))
        assert chunks == 2 + 60  # one for each update with lines, of 3 lines each
        still = await store.job_get(other, theirs.id)
        assert still is not None
        assert still.status.value == "queued"
        assert await store.log_list(other, theirs.id, after=0, limit=10) == []
    finally:
        await store.close()
