"""SQLite's claims in statements of fixed text: a worker's long poll asks several times a job.

SQLite has one writer, and every claim is a write: while one runs, creates and ends wait. The
general path (`execution_queries.py`) builds its claim with SQLAlchemy on every call, which cost
about 3 ms of the write lock a claim, empty or not; at 100 jobs a second, with each job woken
for by every waiting claim, the lock was busy most of the time and a job waited ~100 ms to
start. Here the common claim (from named queues, of any or named types) is two statements,
run with their transaction in one trip to the database's thread (`sqlite_writes.py`): the
executions leased, then their jobs started, which answers their params. A claim of particular
jobs, targets or a version, or that writes status details, takes the general path. The
conformance suite runs the same claims through both.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from functools import partial
from typing import Any

import orjson

from jobyard.domain.entities import ClaimedExecution, ClaimRequest
from jobyard.domain.ids import is_id
from jobyard.store import rows
from jobyard.store.execution_queries import ExecutionQueries
from jobyard.store.sqlite_rows import EXECUTION_COLUMNS, dashed_id, execution_of, fetch, hex_id
from jobyard.store.sqlite_writes import SqliteWrites
from jobyard.store.tables import pending_kill

# ?1 tenant, ?2 the time, ?3 the queues and ?4 the types (JSON arrays; types may be null: any),
# ?5 how many, ?6 the claim's lease, ?7 worker id, ?8 holder, ?9 hostname, ?10 pid. The picked
# rows come from the claim index (the `status = 'queued'` of its condition, as written there);
# each is then updated by its key (`+` keeps SQLite off the other indexes of those columns).
EXECUTIONS_CLAIM = f"""
UPDATE executions SET status = 'in_progress', version = executions.version + 1,
  started_at = ?2, last_updated_at = ?2,
  lease_s = coalesce(j.lease_s, ?6),
  lease_expires_at = ?2 + coalesce(j.lease_s, ?6),
  timeout_at = ?2 + j.timeout_s,
  worker_id = ?7, holder = ?8, hostname = ?9, pid = ?10
FROM (
  SELECT e.job_id, e.execution_number FROM executions AS e
  WHERE e.tenant_id = ?1 AND e.status = 'queued' AND e.available_at <= ?2
    AND e.queue IN (SELECT value FROM json_each(?3))
    AND (?4 IS NULL OR e.type IN (SELECT value FROM json_each(?4)))
  ORDER BY e.priority DESC, e.available_at, e.job_id
  LIMIT ?5
) AS p, jobs AS j
WHERE executions.job_id = p.job_id AND executions.execution_number = p.execution_number
  AND +executions.status = 'queued' AND j.id = executions.job_id
RETURNING {EXECUTION_COLUMNS}
"""  # noqa: S608 -- of this module's own names; every value is a parameter

# ?1 the jobs (a JSON array of ids), ?2 the time.
JOBS_START = """
UPDATE jobs SET status = 'in_progress', started_at = coalesce(started_at, ?2), updated_at = ?2
WHERE id IN (SELECT value FROM json_each(?1))
RETURNING id, params, document
"""

# ?1 tenant, ?2 worker id: as `ExecutionQueries.execution_kill_orders`, through the index of
# pending kill orders (its condition written as there), almost always empty. Left to itself,
# SQLite took the status index: every running job of the tenant, at each claim.
KILL_ORDERS = f"""
SELECT e.job_id, e.execution_number
FROM jobs AS j INDEXED BY ix_jobs_kill_pending JOIN executions AS e ON e.job_id = j.id
WHERE j.tenant_id = ?1 AND {pending_kill("j")} AND e.status = 'in_progress' AND e.worker_id = ?2
"""  # noqa: S608 -- a constant of the schema's; every value is a parameter


def _general(req: ClaimRequest) -> bool:
    """Whether the claim asks for what only the general path does."""
    return (
        req.all_queues
        or req.job_ids is not None
        or req.targets is not None
        or req.expected_version is not None
        or req.status_details is not None
    )


def _claim(
    params: tuple[Any, ...], at: float, db: sqlite3.Connection
) -> tuple[list[Any], list[Any]]:
    """On the database's thread, in the write transaction: the executions leased, and their
    jobs marked started (with their params and documents)."""
    leased = db.execute(EXECUTIONS_CLAIM, params).fetchall()
    if not leased:
        return [], []
    ids = orjson.dumps([r[1] for r in leased]).decode()
    return leased, db.execute(JOBS_START, (ids, at)).fetchall()


def _claim_params(tenant_id: str, req: ClaimRequest, at: float) -> tuple[Any, ...]:
    """`EXECUTIONS_CLAIM`'s parameters, in its order."""
    return (
        hex_id(tenant_id),
        at,
        orjson.dumps(list(req.queues)).decode(),
        orjson.dumps(list(req.types)).decode() if req.types else None,
        *req.lease_terms(),
    )


def _claimed(leased: list[Any], started: list[Any]) -> list[ClaimedExecution]:
    """The leased rows, in the claim's order, with their jobs' params and documents."""
    if not leased:
        return []
    payload = {
        dashed_id(r[0]): (orjson.loads(r[1]), None if r[2] is None else orjson.loads(r[2]))
        for r in started
    }
    claimed = sorted(
        (execution_of(r) for r in leased),
        key=lambda x: (-x.priority, x.available_at, x.job_id),
    )
    return rows.claimed_of(claimed, payload)


def _claim_with_kills(
    params: tuple[Any, ...], worker: tuple[str, str], at: float, db: sqlite3.Connection
) -> tuple[list[Any], list[Any], list[Any]]:
    """`_claim`, and the kill orders waiting for its worker (`KILL_ORDERS`' parameters) read
    first, on the same trip."""
    kills = db.execute(KILL_ORDERS, worker).fetchall()
    return (*_claim(params, at, db), kills)


def _kill_refs(found: list[Any]) -> list[tuple[str, int]]:
    return [(dashed_id(r[0]), int(r[1])) for r in found]


class SqliteClaims(SqliteWrites, ExecutionQueries):
    async def execution_claim(self, tenant_id: str, req: ClaimRequest) -> list[ClaimedExecution]:
        if _general(req) or not is_id(tenant_id):
            return await super().execution_claim(tenant_id, req)
        at = datetime.now(UTC).timestamp()
        leased, started = await self._write_trip(
            partial(_claim, _claim_params(tenant_id, req, at), at)
        )
        return _claimed(leased, started)

    async def execution_claim_with_kills(
        self, tenant_id: str, req: ClaimRequest
    ) -> tuple[list[ClaimedExecution], list[tuple[str, int]]]:
        """Both in one trip to the database's thread."""
        if _general(req) or not is_id(tenant_id) or not req.worker.id:
            return await super().execution_claim_with_kills(tenant_id, req)
        at = datetime.now(UTC).timestamp()
        worker = (hex_id(tenant_id), req.worker.id)
        trip = partial(_claim_with_kills, _claim_params(tenant_id, req, at), worker, at)
        leased, started, kills = await self._write_trip(trip)
        return _claimed(leased, started), _kill_refs(kills)

    async def execution_kill_orders(self, tenant_id: str, worker_id: str) -> list[tuple[str, int]]:
        if not is_id(tenant_id):
            return await super().execution_kill_orders(tenant_id, worker_id)
        async with self._read() as conn:
            found = await fetch(conn, KILL_ORDERS, (hex_id(tenant_id), worker_id))
        return _kill_refs(found)


__all__ = ["SqliteClaims"]
