"""SQLite's hot path: a batch of ends, with what following a job writes, in fixed statements.

SQLite has one writer, so the time a batch holds the write lock is the server's throughput. The
general path (`bulk_updates.py`) builds its statements with SQLAlchemy for every batch, in seven
of them for ends that carry steps and lines, and reads every row back through the column types;
for a batch of followed jobs that was three times the write of plain ones. Here a batch of ends
(`end_batches.end_kind`) is three statements of fixed text, run with their transaction in one
trip to the database's thread (`sqlite_writes.py`): the executions ended (the same fencing as
`_update_one`; for a followed batch they answer their jobs' log seqs and current steps, to
number the lines from and merge the reports onto), their jobs ended with their steps, progress,
counters and a block of log seqs (one row of plain parameters each, by `executemany`), and each
update's lines inserted as one chunk (`store/log_chunks.py`, by `executemany`). The executions'
rows travel as one JSON array (`json_each`); ids are the hex SQLite keeps, JSON values their
text. The conformance suite runs the same tests through this path and the general one.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from functools import partial
from typing import Any

import orjson

from jobyard.domain.entities import COUNTERS, Execution, ExecutionUpdate, UpdateOutcome
from jobyard.domain.ids import is_id
from jobyard.domain.states import ExecutionStatus, job_status_for
from jobyard.domain.steps import merge_steps
from jobyard.store.bulk_updates import BulkUpdates, Key
from jobyard.store.end_batches import end_kind, if_latest
from jobyard.store.log_chunks import lines_text
from jobyard.store.sqlite_rows import (
    EXECUTION_COLUMNS,
    epoch_time,
    execution_of,
    hex_id,
    json_text,
)
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


_JOB_NAMES = _JOB_ROW.split(", ")
_JOB_PARAMS = ", ".join(f"?{i} AS {name}" for i, name in enumerate(_JOB_NAMES, 1))
_TENANT, _TIME = f"?{len(_JOB_NAMES) + 1}", f"?{len(_JOB_NAMES) + 2}"

# One job's row (`_JOB_ROW`), then the tenant and the time, by `executemany`: plain parameters,
# where a JSON array of the rows was parsed again for each of its columns (SQLite 3.40 keeps no
# parsed JSON), the whole row each time: steps and progress made a followed row four times as
# long. Nothing to answer: the log seqs were read with the executions.
JOBS_END = f"""
UPDATE jobs SET log_seq = jobs.log_seq + d.n_lines,
  {_if_latest("status", "d.job_status")},
  {_if_latest("completed_at", _TIME)},
  {_if_latest("updated_at", _TIME)},
  {_if_latest("result", "coalesce(d.result, jobs.result)")},
  {_if_latest("error", "coalesce(d.error, jobs.error)")},
  {_if_latest("steps", "coalesce(d.steps, jobs.steps)")},
  {_if_latest("progress", "coalesce(d.progress, jobs.progress)")},
  {", ".join(_if_latest(c, f"jobs.{c} + d.add_{c}") for c in COUNTERS)}
FROM (SELECT {_JOB_PARAMS}) AS d
WHERE jobs.id = d.job_id AND +jobs.tenant_id = {_TENANT}
"""  # noqa: S608 -- of this module's own names; every value is a parameter

CHUNKS_INSERT = """
INSERT INTO log_chunks (job_id, first_seq, last_seq, tenant_id, execution_number, ts, lines)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""


class SqliteHotPath(SqliteWrites, BulkUpdates):
    async def execution_update_many(
        self, tenant_id: str, updates: list[ExecutionUpdate]
    ) -> list[UpdateOutcome]:
        if end_kind(updates) is None or not all(is_id(u.job_id) for u in updates):
            return await super().execution_update_many(tenant_id, updates)
        batch = sorted(updates, key=lambda u: (u.job_id, u.execution_number))
        texts = [lines_text(u.logs) if u.logs else None for u in batch]  # before the lock
        work = partial(_end_batch, hex_id(tenant_id), batch, texts)
        done = await self._write_trip(work)
        missed = [u for u in updates if (u.job_id, u.execution_number) not in done]
        if missed:  # why not: as the rows are now
            async with self._read() as conn:
                for u in missed:
                    done[(u.job_id, u.execution_number)] = await self._refusal(conn, tenant_id, u)
        return [done[(u.job_id, u.execution_number)] for u in updates]


def _end_batch(
    tenant: str, batch: list[ExecutionUpdate], texts: list[str | None], db: sqlite3.Connection
) -> dict[Key, UpdateOutcome]:
    """On the database's thread, in the write transaction: end the executions the batch may
    end, then their jobs, then insert their lines (`texts`, each update's chunk); answers the
    outcome of each update that applied."""
    at = datetime.now(UTC).timestamp()
    now = epoch_time(at)  # as the rows keep it, to stamp the steps with
    assert now is not None
    rows = [
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
        for u in batch
    ]
    followed = any(u.steps is not None or u.logs for u in batch)
    sql = EXECUTIONS_END_FOLLOWED if followed else EXECUTIONS_END
    ended = db.execute(sql, (orjson.dumps(rows).decode(), tenant, at)).fetchall()
    applied: dict[Key, tuple[Execution, bool, int]] = {}
    log_seq: dict[str, int] = {}
    steps: dict[str, list[Any]] = {}
    for r in ended:
        ex = execution_of(r)
        applied[(ex.job_id, ex.execution_number)] = (ex, r[22] is not None, r[21])
        if followed:
            log_seq[ex.job_id] = r[23]
            if r[24]:
                steps[ex.job_id] = orjson.loads(r[24])
    ends = [
        (u, text)
        for u, text in zip(batch, texts, strict=True)
        if (u.job_id, u.execution_number) in applied
    ]
    if not ends:
        return {}
    job_rows = []
    for u, _ in ends:
        merged = None
        if u.steps is not None:
            merged = merge_steps(steps.get(u.job_id, []), u.steps, now)
        added = u.counters or {}
        job_rows.append(
            (
                hex_id(u.job_id),
                u.execution_number,
                job_status_for(u.status or ExecutionStatus.SUCCEEDED).value,
                json_text(u.result),
                json_text(u.error),
                json_text(merged),
                json_text(u.progress),
                len(u.logs or ()),
                *(added.get(name, 0) for name in COUNTERS),
                tenant,
                at,
            )
        )
    db.executemany(JOBS_END, job_rows)
    chunks = []
    for u, text in ends:
        if u.logs and text is not None:
            first = log_seq[u.job_id] + 1
            last = first + len(u.logs) - 1
            chunks.append((hex_id(u.job_id), first, last, tenant, u.execution_number, at, text))
    if chunks:
        db.executemany(CHUNKS_INSERT, chunks)
    done: dict[Key, UpdateOutcome] = {}
    for u, _ in ends:
        ex, kill, total = applied[(u.job_id, u.execution_number)]
        done[(u.job_id, u.execution_number)] = UpdateOutcome(
            ex, True, kill, log_lines=total if u.logs else None
        )
    return done


__all__ = ["SqliteHotPath"]
