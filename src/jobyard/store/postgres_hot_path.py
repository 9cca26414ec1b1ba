"""PostgreSQL's hot path: create, claim and finish, each in one statement on asyncpg directly.

These run for every job, so each is one hand-written statement that asyncpg prepares once per
connection, and runs on its own: one statement is atomic by itself, so there are no BEGIN and
COMMIT round trips. The job, its first execution and its key are inserted together (a key that
`job_keys` already holds undoes the statement, and leaves the batch to the general path in
`job_queries.py`, which tells a replay from a reuse); an execution is picked
(`FOR UPDATE SKIP LOCKED`), leased and its job marked started together; a batch of outcomes is
written to executions and jobs together. What these statements do not cover (failures that may
be retried, output, steps and progress, hand-backs) takes the general path in `bulk_updates.py`,
and the conformance suite runs the same tests through both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson

from jobyard.domain.entities import (
    COUNTERS,
    ClaimedExecution,
    ClaimRequest,
    ExecutionUpdate,
    Job,
    NewJob,
    UpdateOutcome,
)
from jobyard.domain.ids import new_id
from jobyard.domain.states import ExecutionStatus, job_status_for
from jobyard.domain.steps import merge_steps, new_step
from jobyard.store import postgres_statements as statements
from jobyard.store import rows
from jobyard.store.bulk_updates import BulkUpdates, Key
from jobyard.store.end_batches import FreshSteps, end_kind
from jobyard.store.log_chunks import lines_text

ES = ExecutionStatus
_WARM_CONNECTIONS = 3  # kept open from the start: a few requests at once need no new one


async def _connection_setup(conn: asyncpg.Connection) -> None:
    """JSON through orjson, in jsonb's binary form (a version byte, then the text); ids as text,
    as the rest of the store has them. No table scans, hash or merge joins: every statement here
    is written to reach its rows by key, but a planner reading the statistics of a young table
    (none yet, or from when it was small) would scan it instead, on every call of a plan it keeps,
    however large the table has grown since."""
    await conn.execute(
        "SET enable_seqscan = off; SET enable_hashjoin = off; SET enable_mergejoin = off"
    )
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        format="binary",
        encoder=lambda value: b"\x01" + orjson.dumps(value),
        decoder=lambda data: orjson.loads(data[1:]),
    )
    await conn.set_type_codec("uuid", schema="pg_catalog", format="text", encoder=str, decoder=str)


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Nothing to undo when a connection goes back to the pool: the hot path takes no LISTEN
    and no advisory lock, and its planner settings (`_connection_setup`) are meant to stay, so
    asyncpg's reset (a round trip each time, and a RESET ALL) is skipped. A transaction left
    open (an error half-way) is still rolled back by the pool."""


def _json(value: Any) -> str | None:
    """A JSON value as the text a `::jsonb` cast reads (a list given to asyncpg as an array
    element would be taken for another dimension of the array); None stays SQL NULL."""
    return None if value is None else orjson.dumps(value).decode()


def _plain_dsn(url: str) -> str:
    for prefix in ("postgresql+asyncpg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


class PostgresHotPath(BulkUpdates):
    """The three hot statements; a backend mixes this in before the general queries."""

    _pool: asyncpg.Pool | None = None
    _pool_lock: asyncio.Lock | None = None
    _pool_size: int = 10

    async def upgrade(self) -> None:
        await super().upgrade()
        await self._open_pool()  # at start, so that no request waits for a connection to open

    async def _open_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            if self._pool_lock is None:
                self._pool_lock = asyncio.Lock()
            async with self._pool_lock:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        _plain_dsn(self.url),
                        min_size=min(_WARM_CONNECTIONS, self._pool_size),
                        max_size=self._pool_size,
                        init=_connection_setup,
                        reset=_keep_session,
                    )
        return self._pool

    @asynccontextmanager
    async def _raw(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection of the hot path's own pool (made at start, or on first use)."""
        pool = self._pool or await self._open_pool()
        async with pool.acquire() as conn:
            yield conn

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        await super().close()

    # create ------------------------------------------------------------------------------------
    async def job_insert_many(
        self, tenant_id: str, owner: str | None, jobs_in: list[tuple[NewJob, str | None]]
    ) -> list[tuple[Job, bool]]:
        if not jobs_in:
            return []
        ids = [new_id() for _ in jobs_in]
        steps = [[new_step(s) for s in new.steps] for new, _ in jobs_in]
        columns = _columns(
            (
                job_id,
                new.type,
                new.queue,
                new.priority,
                _json(new.params),
                _json(new.document),
                _json(new.labels),
                new.parent_id,
                _json(new.collaborators),
                new.scheduled_at,
                new.max_attempts,
                new.backoff_base_s,
                new.backoff_max_s,
                new.timeout_s,
                new.lease_s,
                new.idempotency_key,
                req_hash,
                _json(new.targets),
                _json(job_steps),
            )
            for job_id, (new, req_hash), job_steps in zip(ids, jobs_in, steps, strict=True)
        )
        try:
            async with self._raw() as conn:
                made = await conn.fetch(statements.JOB_INSERT, tenant_id, *columns, owner)
        except asyncpg.UniqueViolationError:
            # An idempotency key seen before (a replay, a reuse for something else, twice in
            # the batch, or taken meanwhile), and so nothing was made: the general path tells
            # which, in a transaction of its own. `job_keys`'s key itself is the check, so the
            # statement needs no lookup of its own, nor a plan for one.
            return await super().job_insert_many(tenant_id, owner, jobs_in)
        by_id = {r["id"]: r for r in made}
        return [
            (rows.job_made(tenant_id, owner, job_id, new, job_steps, by_id[job_id]), True)
            for job_id, (new, _), job_steps in zip(ids, jobs_in, steps, strict=True)
        ]

    # claim -------------------------------------------------------------------------------------
    async def execution_claim(self, tenant_id: str, req: ClaimRequest) -> list[ClaimedExecution]:
        conditions, args = _claim_filters(tenant_id, req)
        sql = statements.EXECUTION_CLAIM.format(conditions=conditions)
        async with self._raw() as conn:
            found = await conn.fetch(sql, *args)
        return [_claimed(r) for r in found]

    async def execution_claim_with_kills(
        self, tenant_id: str, req: ClaimRequest
    ) -> tuple[list[ClaimedExecution], list[tuple[str, int]]]:
        """Both in one statement (`EXECUTION_CLAIM_WITH_KILLS`)."""
        if not req.worker.id:
            return await super().execution_claim_with_kills(tenant_id, req)
        conditions, args = _claim_filters(tenant_id, req)
        sql = statements.EXECUTION_CLAIM_WITH_KILLS.format(conditions=conditions)
        async with self._raw() as conn:
            found = await conn.fetch(sql, *args)
        kills = found[0]["kills"] or []
        return (
            [_claimed(r) for r in found if r["job_id"] is not None],
            [(job_id, number) for job_id, number in kills],
        )

    async def execution_kill_orders(self, tenant_id: str, worker_id: str) -> list[tuple[str, int]]:
        """As the general query does; asked by a long poll that a kill order woke."""
        async with self._raw() as conn:
            found = await conn.fetch(statements.EXECUTION_KILL_ORDERS, tenant_id, worker_id)
        return [(r["job_id"], r["execution_number"]) for r in found]

    # finish ------------------------------------------------------------------------------------
    async def execution_update_many(
        self, tenant_id: str, updates: list[ExecutionUpdate]
    ) -> list[UpdateOutcome]:
        kind = end_kind(updates)
        if kind is None:
            return await super().execution_update_many(tenant_id, updates)
        batch = sorted(updates, key=lambda u: (u.job_id, u.execution_number))
        if kind == "plain":
            async with self._raw() as conn:
                ended = await _deadlock_retried(
                    conn, statements.EXECUTIONS_END, tenant_id, *_end_columns(batch)
                )
        else:
            ended = await self._end_followed(tenant_id, batch)
        done: dict[Key, UpdateOutcome] = {}
        for r in ended:
            ex = rows.execution_from(r)
            done[(ex.job_id, ex.execution_number)] = UpdateOutcome(
                ex, True, r["kill_requested_at"] is not None, log_lines=r["log_lines"]
            )
        for u in batch:  # the lines its execution has had in all, told only where it wrote some
            if not u.logs and (outcome := done.get((u.job_id, u.execution_number))) is not None:
                outcome.log_lines = None
        missed = [u for u in updates if (u.job_id, u.execution_number) not in done]
        if missed:
            async with self._read() as conn:
                for u in missed:
                    done[(u.job_id, u.execution_number)] = await self._refusal(conn, tenant_id, u)
        return [done[(u.job_id, u.execution_number)] for u in updates]

    async def _end_followed(
        self, tenant_id: str, batch: list[ExecutionUpdate]
    ) -> list[asyncpg.Record]:
        """End executions with their steps, progress, counters and lines, in one statement
        when every job the batch reports steps for has none yet (merged onto none here, stamped
        by the database). When one has some, its reports are merged onto them: read under the
        jobs' row locks, in one transaction with the write."""
        stepped = sorted({u.job_id for u in batch if u.steps is not None})
        made = _Followed(batch)  # all but the steps, made once whichever way the batch goes
        async with self._raw() as conn:
            if not stepped:
                args = made.columns([None] * len(batch))
                return await _deadlock_retried(
                    conn, statements.FOLLOWED_EXECUTIONS_END, tenant_id, *args
                )
            try:
                fresh = FreshSteps(None)
                args = made.columns(
                    [None if u.steps is None else fresh.text(u.steps) for u in batch]
                )
                return await _deadlock_retried(conn, statements.FRESH_STEPS_END, tenant_id, *args)
            except asyncpg.PostgresError as exc:
                if exc.sqlstate != statements.STEPS_CHANGED:
                    raise
            try:
                return await _stepped_end(conn, tenant_id, made, stepped)
            except asyncpg.exceptions.DeadlockDetectedError:  # once more, as `_deadlock_retried`
                return await _stepped_end(conn, tenant_id, made, stepped)


def _claim_filters(tenant_id: str, req: ClaimRequest) -> tuple[str, list[Any]]:
    """A claim's conditions, and its parameters: those the statement names, then the filters'."""
    conditions = ["e.tenant_id = $1", "e.status = 'queued'", "e.available_at <= now()"]
    args: list[Any] = [tenant_id, *req.lease_terms(), req.status_details]

    def given(sql: str, value: Any) -> None:
        args.append(value)
        conditions.append(sql.format(f"${len(args)}"))

    if not req.all_queues:
        # One queue as `=`, so the claim index gives the order and no sort is needed.
        if len(req.queues) == 1:
            given("e.queue = {}", req.queues[0])
        else:
            given("e.queue = ANY({}::text[])", list(req.queues))
    if req.job_ids is not None:
        given("e.job_id = ANY({}::uuid[])", list(req.job_ids))
    if req.types:
        given("e.type = ANY({}::text[])", list(req.types))
    if req.targets is not None:
        given("e.target = ANY({}::text[])", list(req.targets))
    if req.expected_version is not None:
        given("e.version = {}", req.expected_version)
    # Only this module's own fragments are joined in; every value is a parameter.
    return " AND ".join(conditions), args


def _claimed(r: asyncpg.Record) -> ClaimedExecution:
    return ClaimedExecution(
        execution=rows.execution_from(r),
        job_type=r["type"],
        params=r["job_params"],
        document=r["job_document"],
    )


async def _stepped_end(
    conn: asyncpg.Connection, tenant_id: str, made: _Followed, stepped: list[str]
) -> list[asyncpg.Record]:
    """Lock the jobs that report steps, merge their steps, and end the batch: one transaction."""
    async with conn.transaction():
        current = await conn.fetch(statements.JOB_STEPS_LOCK, tenant_id, stepped)
        steps = {r["id"]: r["steps"] or [] for r in current}
        now = current[0]["now"] if current else datetime.now(UTC)
        fresh = FreshSteps(now)
        merged = [
            None
            if u.steps is None
            else _json(merge_steps(steps[u.job_id], u.steps, now))
            if steps.get(u.job_id)
            else fresh.text(u.steps)
            for u in made.batch
        ]
        args = made.columns(merged)
        return list(await conn.fetch(statements.FOLLOWED_EXECUTIONS_END, tenant_id, *args))


def _end_columns(batch: list[ExecutionUpdate]) -> list[list[Any]]:
    """The per-row columns `EXECUTIONS_END` unnests (after the tenant)."""
    return _columns(
        (
            u.job_id,
            u.execution_number,
            u.expected_version,
            u.worker_id,
            u.holder,
            u.status.value if u.status else None,
            job_status_for(u.status).value if u.status else None,
            _json(u.status_details),
            u.exit_code,
            _json(u.result),
            _json(u.error),
            ES.IN_PROGRESS.value,
        )
        for u in batch
    )


class _Followed:
    """The columns a followed end unnests (`_followed_end`), but its steps: `_end_columns`,
    then (after the steps) progress, counter increments, the number of lines and the lines (as
    a chunk keeps them)."""

    def __init__(self, batch: list[ExecutionUpdate]) -> None:
        self.batch = batch
        self.ends = _end_columns(batch)
        self.follows = _columns(
            (
                _json(u.progress),
                *((u.counters or {}).get(name, 0) for name in COUNTERS),
                len(u.logs or ()),
                lines_text(u.logs) if u.logs else None,
            )
            for u in batch
        )

    def columns(self, steps: list[str | None]) -> list[Any]:
        """Every column, with `steps` (each update's, as JSON text) in their place."""
        return [*self.ends, steps, *self.follows]


def _columns(values: Iterable[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows as one list per column: the arrays a statement unnests."""
    return [list(column) for column in zip(*values, strict=True)]


async def _deadlock_retried(conn: asyncpg.Connection, sql: str, *args: Any) -> list[Any]:
    """Run a statement that is atomic on its own; once more if PostgreSQL broke a deadlock with
    it (two batches naming the same rows in another order)."""
    try:
        return list(await conn.fetch(sql, *args))
    except asyncpg.exceptions.DeadlockDetectedError:
        return list(await conn.fetch(sql, *args))


__all__ = ["PostgresHotPath"]
