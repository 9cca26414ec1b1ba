"""SQLite's job inserts in statements of fixed text: every create is a write.

The general path (`job_queries.py`) looks up the batch's idempotency keys first and builds its
inserts with SQLAlchemy on every call (SQLite's clock is a value bound into them), about 3 ms
of the write lock for one job; the SDK sends a key with every create. Here a batch is the jobs'
rows, their first executions' rows and their keys, each inserted by a statement of many rows
(`sqlite_values.py`), in one trip to the database's thread (`sqlite_writes.py`), with the
values the database would choose (the time, the status) chosen here, as the general path has
them chosen: nothing needs reading back. The key of `job_keys` (and the jobs' own constraint)
is the check: a key seen before (a replay, or a reuse for something else) fails the insert,
and the general path then tells which, in a transaction of its own.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from functools import cache, partial
from typing import Any

from jobyard.domain.entities import Job, NewJob
from jobyard.domain.ids import is_id, new_id
from jobyard.domain.states import JobStatus
from jobyard.domain.steps import new_step
from jobyard.store import rows
from jobyard.store.job_queries import JobQueries
from jobyard.store.sqlite_rows import epoch_time, hex_id, json_text
from jobyard.store.sqlite_values import pieces, relation
from jobyard.store.sqlite_writes import SqliteWrites

_JOB_ROW = (
    "id, tenant_id, type, queue, priority, status, params, document, labels, parent_id, owner, "
    "collaborators, created_at, updated_at, scheduled_at, max_attempts, backoff_base_s, "
    "backoff_max_s, timeout_s, lease_s, idempotency_key, request_hash, targets, steps"
)
_EXECUTION_ROW = (
    "job_id, tenant_id, queue, type, priority, target, queued_at, available_at, last_updated_at"
)
_KEY_ROW = "tenant_id, idempotency_key, job_id"
_JOB_COLUMNS = tuple(_JOB_ROW.split(", "))
_EXECUTION_COLUMNS = tuple(_EXECUTION_ROW.split(", "))
_KEY_COLUMNS = tuple(_KEY_ROW.split(", "))


@cache
def jobs_insert(rows: int) -> str:
    """`rows` jobs (`_JOB_COLUMNS` each), in their first attempt; the empty rows that pad them
    (`sqlite_values.py`) are left out."""
    return f"""
INSERT INTO jobs ({_JOB_ROW}, attempts)
SELECT {_JOB_ROW}, 1 FROM {relation(_JOB_COLUMNS, rows, 1)} WHERE id IS NOT NULL
"""  # noqa: S608 -- of this module's own names; every value is a parameter


@cache
def executions_insert(rows: int) -> str:
    """The first executions of `rows` jobs (`_EXECUTION_COLUMNS` each), queued."""
    return f"""
INSERT INTO executions ({_EXECUTION_ROW}, execution_number, status, version, status_details)
SELECT {_EXECUTION_ROW}, 1, 'queued', 1, '{{}}'
FROM {relation(_EXECUTION_COLUMNS, rows, 1)} WHERE job_id IS NOT NULL
"""  # noqa: S608 -- of this module's own names; every value is a parameter


@cache
def keys_insert(rows: int) -> str:
    """The idempotency keys of `rows` jobs (`_KEY_COLUMNS` each)."""
    return f"""
INSERT INTO job_keys ({_KEY_ROW})
SELECT {_KEY_ROW} FROM {relation(_KEY_COLUMNS, rows, 1)} WHERE job_id IS NOT NULL
"""  # noqa: S608 -- of this module's own names; every value is a parameter


def _insert(
    job_rows: list[tuple[Any, ...]],
    execution_rows: list[tuple[Any, ...]],
    key_rows: list[tuple[Any, ...]],
    db: sqlite3.Connection,
) -> None:
    """On the database's thread, in the write transaction."""
    for size, params in pieces(db, job_rows, 0):
        db.execute(jobs_insert(size), params)
    for size, params in pieces(db, execution_rows, 0):
        db.execute(executions_insert(size), params)
    for size, params in pieces(db, key_rows, 0):
        db.execute(keys_insert(size), params)


class SqliteJobInserts(SqliteWrites, JobQueries):
    async def job_insert_many(
        self, tenant_id: str, owner: str | None, jobs_in: list[tuple[NewJob, str | None]]
    ) -> list[tuple[Job, bool]]:
        if not jobs_in or not is_id(tenant_id):
            return await super().job_insert_many(tenant_id, owner, jobs_in)
        at = datetime.now(UTC).timestamp()
        created_at = epoch_time(at)
        tenant = hex_id(tenant_id)
        job_rows: list[tuple[Any, ...]] = []
        execution_rows: list[tuple[Any, ...]] = []
        key_rows: list[tuple[Any, ...]] = []
        made: list[Job] = []
        for new, req_hash in jobs_in:
            job_id = new_id()
            steps = [new_step(s) for s in new.steps]
            due = None if new.scheduled_at is None else new.scheduled_at.timestamp()
            status = JobStatus.QUEUED if due is None or due <= at else JobStatus.SCHEDULED
            job_rows.append(
                (
                    hex_id(job_id),
                    tenant,
                    new.type,
                    new.queue,
                    new.priority,
                    status.value,
                    json_text(new.params),
                    json_text(new.document),
                    json_text(new.labels),
                    None if new.parent_id is None else hex_id(new.parent_id),
                    owner,
                    json_text(new.collaborators),
                    at,
                    at,
                    due,
                    new.max_attempts,
                    new.backoff_base_s,
                    new.backoff_max_s,
                    new.timeout_s,
                    new.lease_s,
                    new.idempotency_key,
                    req_hash,
                    json_text(new.targets),
                    json_text(steps),
                )
            )
            chosen = {
                "status": status.value,
                "created_at": created_at,
                "scheduled_at": epoch_time(due),
            }
            job = rows.job_made(tenant_id, owner, job_id, new, steps, chosen)
            made.append(job)
            x = job.latest_execution
            assert x is not None
            execution_rows.append(
                (
                    hex_id(job_id),
                    tenant,
                    x.queue,
                    x.type,
                    x.priority,
                    x.target,
                    at,
                    due if due is not None else at,
                    at,
                )
            )
            if new.idempotency_key is not None:
                key_rows.append((tenant, new.idempotency_key, hex_id(job_id)))
        try:
            await self._write_trip(partial(_insert, job_rows, execution_rows, key_rows))
        except sqlite3.IntegrityError:  # a key seen before: the general path tells which
            return await super().job_insert_many(tenant_id, owner, jobs_in)
        return [(job, True) for job in made]


__all__ = ["SqliteJobInserts"]
