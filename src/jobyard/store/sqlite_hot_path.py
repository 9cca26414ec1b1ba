"""SQLite's hot path: a batch of ends, with what following a job writes, in fixed statements.

SQLite has one writer, so the time a batch holds the write lock is the server's throughput. The
general path (`bulk_updates.py`) builds its statements with SQLAlchemy for every batch, in seven
of them for ends that carry steps and lines, and reads every row back through the column types;
for a batch of followed jobs that was three times the write of plain ones. Here a batch of ends
(`end_batches.end_kind`) is three statements of fixed text, run with their transaction in one
trip to the database's thread (`sqlite_writes.py`): the executions ended (the same fencing as
`_update_one`; for a followed batch they answer their jobs' log seqs and current steps, to
number the lines from and merge the reports onto), their jobs ended with their steps, progress,
counters and a block of log seqs, and each update's lines inserted as one chunk
(`store/log_chunks.py`), the last two as statements of many rows (`sqlite_values.py`). The
executions' rows travel as one JSON array (`json_each`); ids are the hex SQLite keeps, JSON
values their text. Whatever does not depend on the rows (the parameters, the chunks' text, the
steps merged onto none) is made before the write lock is taken, and the outcomes after it is
given back (`_EndBatch`). The conformance suite runs the same tests through this path and the
general one.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson

from jobyard.domain.entities import COUNTERS, ExecutionUpdate, UpdateOutcome
from jobyard.domain.ids import is_id
from jobyard.domain.states import ExecutionStatus, job_status_for
from jobyard.domain.steps import merge_steps
from jobyard.store.bulk_updates import BulkUpdates, Key
from jobyard.store.end_batches import FreshSteps, end_kind, if_latest
from jobyard.store.log_chunks import lines_text
from jobyard.store.sqlite_rows import (
    EXECUTION_COLUMNS,
    execution_of,
    hex_id,
    json_text,
)
from jobyard.store.sqlite_values import pieces, relation
from jobyard.store.sqlite_writes import SqliteWrites

_END_ROW = (
    "job_id, execution_number, expected_version, worker_id, holder, status, status_details, "
    "exit_code, n_lines"
)
_JOB_ROW = "job_id, execution_number, job_status, result, error, steps, progress, n_lines, " + (
    ", ".join(f"add_{c}" for c in COUNTERS)
)


def _rows(names: str) -> str:
    """The rows of parameter ?1, one JSON array each, as a relation with these columns."""
    columns = ", ".join(
        f"json_extract(value, '$[{i}]') AS {name}" for i, name in enumerate(names.split(", "))
    )
    return f"(SELECT {columns} FROM json_each(?1))"  # noqa: S608 -- our own names


# ?1 the rows, ?2 the tenant, ?3 the time. The `+` keeps SQLite from reaching executions through
# an index on those columns (the in-progress leases, say): each row is found by its key.
EXECUTIONS_END = f"""
UPDATE executions SET status = u.status, version = executions.version + 1,
  last_updated_at = ?3, completed_at = ?3, lease_expires_at = NULL,
  status_details = coalesce(u.status_details, executions.status_details),
  exit_code = coalesce(u.exit_code, executions.exit_code),
  log_lines = executions.log_lines + u.n_lines
FROM {_rows(_END_ROW)} AS u
WHERE executions.job_id = u.job_id AND executions.execution_number = u.execution_number
  AND +executions.tenant_id = ?2 AND +executions.status = 'in_progress'
  AND +executions.lease_expires_at > ?3
  AND (u.expected_version IS NULL OR executions.version = u.expected_version)
  AND (u.worker_id IS NULL OR executions.worker_id = u.worker_id)
  AND (u.holder IS NULL OR executions.holder = u.holder)
RETURNING {EXECUTION_COLUMNS},
  (SELECT j.kill_requested_at FROM jobs AS j WHERE j.id = executions.job_id)
"""  # noqa: S608 -- of this module's own names; every value is a parameter
# For a batch that follows its jobs (steps, lines): each job's log seq and steps as they are,
# to number the lines from and merge the reports onto (the write lock is ours until the batch
# ends, so they stay so until the jobs are written).
EXECUTIONS_END_FOLLOWED = (
    EXECUTIONS_END.rstrip()  # noqa: S608 -- of this module's own text
    + """,
  (SELECT j.log_seq FROM jobs AS j WHERE j.id = executions.job_id),
  (SELECT j.steps FROM jobs AS j WHERE j.id = executions.job_id)
"""
)


def _if_latest(column: str, value: str) -> str:
    return if_latest("jobs", column, value)


_JOB_NAMES = tuple(_JOB_ROW.split(", "))
_STEPS = _JOB_NAMES.index("steps")
_CHUNK_NAMES = ("job_id", "first_seq", "last_seq", "tenant_id", "execution_number", "ts", "lines")


@cache
def jobs_end(rows: int) -> str:
    """The jobs of `rows` ended executions (`_JOB_ROW` each, from ?3), of the tenant ?1, at the
    time ?2. Nothing to answer: the log seqs were read with the executions."""
    return f"""
UPDATE jobs SET log_seq = jobs.log_seq + d.n_lines,
  {_if_latest("status", "d.job_status")},
  {_if_latest("completed_at", "?2")},
  {_if_latest("updated_at", "?2")},
  {_if_latest("result", "coalesce(d.result, jobs.result)")},
  {_if_latest("error", "coalesce(d.error, jobs.error)")},
  {_if_latest("steps", "coalesce(d.steps, jobs.steps)")},
  {_if_latest("progress", "coalesce(d.progress, jobs.progress)")},
  {", ".join(_if_latest(c, f"jobs.{c} + d.add_{c}") for c in COUNTERS)}
FROM {relation(_JOB_NAMES, rows, 3)} AS d
WHERE jobs.id = d.job_id AND +jobs.tenant_id = ?1
"""  # noqa: S608 -- of this module's own names; every value is a parameter


@cache
def chunks_insert(rows: int) -> str:
    """`rows` log chunks (`_CHUNK_NAMES` each); the empty rows that pad them are left out."""
    names = ", ".join(_CHUNK_NAMES)
    return f"""
INSERT INTO log_chunks ({names})
SELECT {names} FROM {relation(_CHUNK_NAMES, rows, 1)} WHERE job_id IS NOT NULL
"""  # noqa: S608 -- of this module's own names; every value is a parameter


class SqliteHotPath(SqliteWrites, BulkUpdates):
    async def execution_update_many(
        self, tenant_id: str, updates: list[ExecutionUpdate]
    ) -> list[UpdateOutcome]:
        if end_kind(updates) is None or not all(is_id(u.job_id) for u in updates):
            return await super().execution_update_many(tenant_id, updates)
        in_order = sorted(updates, key=lambda u: (u.job_id, u.execution_number))
        batch = _EndBatch(hex_id(tenant_id), in_order)  # made before the lock
        ended = await self._write_trip(batch.write)
        done: dict[Key, UpdateOutcome] = {}
        for r in ended:  # read after the lock is given back
            ex = execution_of(r)
            lines = r[21] if (r[1], r[2]) in batch.texts else None
            done[(ex.job_id, ex.execution_number)] = UpdateOutcome(
                ex, True, r[22] is not None, log_lines=lines
            )
        missed = [u for u in updates if (u.job_id, u.execution_number) not in done]
        if missed:  # why not: as the rows are now
            async with self._read() as conn:
                for u in missed:
                    done[(u.job_id, u.execution_number)] = await self._refusal(conn, tenant_id, u)
        return [done[(u.job_id, u.execution_number)] for u in updates]


class _EndBatch:
    """A batch of ends as the statements take it, all that does not depend on the rows made
    before the write lock is taken: the write (`write`, on the database's thread) only runs the
    statements and merges steps onto a job that had some already."""

    def __init__(self, tenant: str, updates: list[ExecutionUpdate]) -> None:
        self.tenant = tenant
        self.followed = any(u.steps is not None or u.logs for u in updates)
        self.ends = json_text(
            [
                (
                    hex_id(u.job_id),
                    u.execution_number,
                    u.expected_version,
                    u.worker_id,
                    u.holder,
                    u.status.value if u.status else None,
                    json_text(u.status_details),
                    u.exit_code,
                    len(u.logs or ()),
                )
                for u in updates
            ]
        )
        stamp = datetime.now(UTC)
        # Each job's row but the tenant and the time, its steps merged onto none (a job with
        # no steps declared, the common case; `write` merges again onto those it finds).
        self.jobs: dict[Key, tuple[Any, ...]] = {}  # by hex id and number, as the rows come
        self.steps: dict[Key, list[dict[str, Any]]] = {}
        self.texts: dict[Key, tuple[int, str]] = {}  # the lines: how many, and their chunk
        fresh = FreshSteps(stamp)
        for u in updates:
            h = hex_id(u.job_id)
            added = u.counters or {}
            merged = None
            if u.steps is not None:
                self.steps[(h, u.execution_number)] = u.steps
                merged = fresh.text(u.steps)
            self.jobs[(h, u.execution_number)] = (
                h,
                u.execution_number,
                job_status_for(u.status or ExecutionStatus.SUCCEEDED).value,
                json_text(u.result),
                json_text(u.error),
                merged,
                json_text(u.progress),
                len(u.logs or ()),
                *(added.get(name, 0) for name in COUNTERS),
            )
            if u.logs:
                self.texts[(h, u.execution_number)] = (len(u.logs), lines_text(u.logs))

    def write(self, db: sqlite3.Connection) -> list[Any]:
        """On the database's thread, in the write transaction: end the executions the batch
        may end, then their jobs, then insert their lines; answers the executions ended."""
        at = datetime.now(UTC).timestamp()
        sql = EXECUTIONS_END_FOLLOWED if self.followed else EXECUTIONS_END
        ended = db.execute(sql, (self.ends, self.tenant, at)).fetchall()
        jobs, chunks = [], []
        for r in ended:
            key = (r[1], r[2])
            row = self.jobs[key]
            if self.followed:
                reports = self.steps.get(key)
                if reports is not None and r[24] and r[24] != "[]":
                    now = datetime.fromtimestamp(at, UTC)
                    merged = merge_steps(orjson.loads(r[24]), reports, now)
                    row = (*row[:_STEPS], json_text(merged), *row[_STEPS + 1 :])
                written = self.texts.get(key)
                if written is not None:
                    count, text = written
                    first = r[23] + 1
                    chunks.append((r[1], first, first + count - 1, self.tenant, r[2], at, text))
            jobs.append(row)
        for size, params in pieces(db, jobs, 2):
            db.execute(jobs_end(size), (self.tenant, at, *params))
        for size, params in pieces(db, chunks, 0):
            db.execute(chunks_insert(size), params)
        return ended


__all__ = ["SqliteHotPath"]
