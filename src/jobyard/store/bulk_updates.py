"""The hot path of worker updates: a batch written in a few statements, whatever its rows carry.

Most rows of a busy batch are alike: a final status (succeeded, rejected, failed) or a heartbeat,
each with its own result, error, status details, exit code or lease, steps, progress or
counters. Each kind is written with one conditional UPDATE for the whole batch, joined to the
rows' own values (a backend's `_per_row` relation), and its jobs with one UPDATE more (two with
steps, progress or counters); failures that are retried add one UPDATE and one INSERT. What
stays row by row, through `_update_one`: canceled (it must answer a kill order), hand-backs
(queued), statuses only the server sets, a process's identity, and a row named again later in
the batch, so that repeats keep their sequential meaning. A row the bulk statement misses is
answered by the same refusal logic as the general path.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from jobyard.domain.entities import ExecutionUpdate, UpdateOutcome
from jobyard.domain.states import ExecutionStatus
from jobyard.store import rows
from jobyard.store.bulk_outcomes import Columns
from jobyard.store.tables import executions, jobs
from jobyard.store.types import Id, Json
from jobyard.store.update_output import UpdateOutput

ES = ExecutionStatus
Key = tuple[str, int]

_FINAL = frozenset({ES.SUCCEEDED, ES.REJECTED, ES.FAILED})
# The per-row values of an execution write.
_UPDATE_COLUMNS: Columns = (
    ("job_id", Id),
    ("execution_number", sa.Integer()),
    ("expected_version", sa.Integer()),
    ("worker_id", sa.String()),
    ("holder", sa.String()),
    ("status", sa.String()),
    ("status_details", Json),
    ("exit_code", sa.Integer()),
    ("lease_s", sa.Integer()),
)
_KEY_COLUMNS: Columns = (("job_id", Id), ("execution_number", sa.Integer()))


def _bulk_kind(u: ExecutionUpdate) -> str | None:
    """ "final" or "beat" for rows the bulk path takes, else None (the general path)."""
    if u.pid is not None or u.hostname is not None:
        return None  # process identity goes row by row
    if u.status in _FINAL:
        return "final"
    if u.status is None or u.status is ES.IN_PROGRESS:
        return "beat"
    return None  # canceled, queued, or a status only the server sets


def _key(u: ExecutionUpdate) -> Key:
    return (u.job_id, u.execution_number)


class BulkUpdates(UpdateOutput):
    async def execution_update_many(
        self, tenant_id: str, updates: list[ExecutionUpdate]
    ) -> list[UpdateOutcome]:
        if not updates:
            return []
        kinds: dict[str, list[int]] = {}
        general: list[int] = []
        seen: set[Key] = set()
        for i, u in enumerate(updates):
            kind = _bulk_kind(u) if _key(u) not in seen else None
            seen.add(_key(u))
            if kind is None:
                general.append(i)
            else:
                kinds.setdefault(kind, []).append(i)
        out: list[UpdateOutcome | None] = [None] * len(updates)
        async with self._write() as conn:
            await self._lock_in_key_order(conn, tenant_id, sorted(seen))
            for kind, idxs in sorted(kinds.items()):
                batch = sorted((updates[i] for i in idxs), key=_key)
                if kind == "final":
                    done = await self._bulk_finish(conn, tenant_id, batch)
                else:
                    done = await self._bulk_beat(conn, tenant_id, batch)
                for i in idxs:
                    u = updates[i]
                    out[i] = done.get(_key(u)) or await self._refusal(conn, tenant_id, u)
            # Stable: repeats of one row keep their order.
            general.sort(key=lambda i: _key(updates[i]))
            for i in general:
                out[i] = await self._update_one(conn, tenant_id, updates[i])
            await self._write_update_output(conn, tenant_id, updates, out)  # lines, record errors
        return [o for o in out if o is not None]

    # executions ---------------------------------------------------------------------------------
    async def _lock_in_key_order(
        self, conn: AsyncConnection, tenant_id: str, keys: list[Key]
    ) -> None:
        """Lock every execution the batch names, in key order, before writing any of them, so
        that two batches sharing rows cannot deadlock (the UPDATEs lock in plan order)."""
        named = self._per_row("named", _KEY_COLUMNS, list(keys))
        await conn.execute(
            sa.select(executions.c.job_id)
            .join(named, self._same_execution(named))
            .where(executions.c.tenant_id == tenant_id)
            .order_by(executions.c.job_id, executions.c.execution_number)
            .with_for_update(of=executions)
        )

    @staticmethod
    def _same_execution(u: sa.FromClause) -> sa.ColumnElement[bool]:
        return sa.and_(
            executions.c.job_id == u.c.job_id,
            executions.c.execution_number == u.c.execution_number,
        )

    def _updates(self, batch: list[ExecutionUpdate]) -> sa.FromClause:
        return self._per_row(
            "u",
            _UPDATE_COLUMNS,
            [
                (
                    u.job_id,
                    u.execution_number,
                    u.expected_version,
                    u.worker_id,
                    u.holder,
                    u.status.value if u.status else None,
                    u.status_details,
                    u.exit_code,
                    u.lease_s,
                )
                for u in batch
            ],
        )

    def _fenced(self, tenant_id: str, u: sa.FromClause) -> list[sa.ColumnElement[bool]]:
        """The fencing of `_update_one`, per row: in progress, lease alive, at the expected
        version and held by the named worker, each when the row gives one."""
        return [
            self._same_execution(u),
            executions.c.tenant_id == tenant_id,
            executions.c.status == ES.IN_PROGRESS.value,
            executions.c.lease_expires_at > self._now(),
            sa.or_(u.c.expected_version.is_(None), executions.c.version == u.c.expected_version),
            sa.or_(u.c.worker_id.is_(None), executions.c.worker_id == u.c.worker_id),
            sa.or_(u.c.holder.is_(None), executions.c.holder == u.c.holder),
        ]

    async def _write_executions(
        self, conn: AsyncConnection, stmt: sa.Update
    ) -> dict[Key, UpdateOutcome]:
        kill = sa.select(jobs.c.kill_requested_at).where(jobs.c.id == executions.c.job_id)
        result = await conn.execute(
            stmt.returning(executions, kill.scalar_subquery().label("kill_requested_at"))
        )
        done = {}
        for r in result.mappings():
            ex = rows.execution_from(r)
            done[(ex.job_id, ex.execution_number)] = UpdateOutcome(
                ex, True, r["kill_requested_at"] is not None
            )
        return done

    async def _follow(
        self, conn: AsyncConnection, batch: list[ExecutionUpdate], done: dict[Key, UpdateOutcome]
    ) -> None:
        """The steps, progress and counters of the applied rows that report some."""
        followed = []
        for u in batch:
            outcome = done.get(_key(u))
            if outcome is not None and outcome.execution is not None and u.follows():
                followed.append((u, outcome.execution))
        await self._jobs_follow(conn, followed)

    async def _bulk_beat(
        self, conn: AsyncConnection, tenant_id: str, batch: list[ExecutionUpdate]
    ) -> dict[Key, UpdateOutcome]:
        """Heartbeats and progress reports: renew each lease by the row's own `lease_s`, or the
        one the execution has; keep a result or error on the job."""
        u = self._updates(batch)
        lease = sa.func.coalesce(u.c.lease_s, executions.c.lease_s)
        done = await self._write_executions(
            conn,
            sa.update(executions)
            .where(*self._fenced(tenant_id, u))
            .values(
                version=executions.c.version + 1,
                last_updated_at=self._now(),
                lease_expires_at=self._now_plus(lease),
                lease_s=lease,
                status_details=sa.func.coalesce(u.c.status_details, executions.c.status_details),
                exit_code=sa.func.coalesce(u.c.exit_code, executions.c.exit_code),
            ),
        )
        await self._follow(conn, batch, done)
        await self._jobs_note(conn, [x for x in batch if _key(x) in done])
        return done

    async def _bulk_finish(
        self, conn: AsyncConnection, tenant_id: str, batch: list[ExecutionUpdate]
    ) -> dict[Key, UpdateOutcome]:
        """Final statuses: end each execution, then carry it to its job as `_finish_job` does."""
        u = self._updates(batch)
        now = self._now()
        done = await self._write_executions(
            conn,
            sa.update(executions)
            .where(*self._fenced(tenant_id, u))
            .values(
                status=u.c.status,
                version=executions.c.version + 1,
                last_updated_at=now,
                completed_at=now,
                lease_expires_at=None,
                status_details=sa.func.coalesce(u.c.status_details, executions.c.status_details),
                exit_code=sa.func.coalesce(u.c.exit_code, executions.c.exit_code),
            ),
        )
        await self._follow(conn, batch, done)  # before a retry moves the job on
        await self._jobs_finish(conn, [x for x in batch if _key(x) in done])
        return done


__all__ = ["BulkUpdates", "Key"]
