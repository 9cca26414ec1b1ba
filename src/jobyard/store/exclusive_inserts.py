"""Exclusive creation (see `jobyard.domain.exclusive`): find the active job of a kind, count the
window's quota and insert, in one write transaction.

SQLite has one writer (`BEGIN IMMEDIATE`), so the transaction alone decides. PostgreSQL's read
committed transactions could both see no active job and both insert: a transaction-scoped
advisory lock keyed by the kind makes them take turns, and the second then sees the first's job.
"""

from __future__ import annotations

import orjson
import sqlalchemy as sa

from jobyard.domain.entities import NewJob
from jobyard.domain.exclusive import ACTIVE_JOB, ExclusiveOutcome, ExclusiveRule
from jobyard.store.job_queries import JobQueries, _job_and_latest, _job_with_latest
from jobyard.store.tables import jobs, status_in


class ExclusiveInserts(JobQueries):
    async def job_insert_exclusive(
        self, tenant_id: str, owner: str | None, new: NewJob, rule: ExclusiveRule
    ) -> ExclusiveOutcome:
        kind = [jobs.c.tenant_id == tenant_id, jobs.c.type == new.type]
        kind += [self._label_condition(k, v) for k, v in sorted(rule.labels.items())]
        async with self._write() as conn:
            if self.dialect == "postgresql":
                lock_key = orjson.dumps(
                    [tenant_id, new.type, rule.labels], option=orjson.OPT_SORT_KEYS
                ).decode()
                await conn.execute(
                    sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(lock_key, 0)))
                )
            used = 0
            if rule.window_start is not None:
                counted = sa.select(sa.func.count()).where(
                    *kind, jobs.c.created_at >= rule.window_start
                )
                used = int((await conn.execute(counted)).scalar_one())
            active = (
                (
                    await conn.execute(
                        _job_with_latest()
                        .where(*kind, status_in(s.value for s in ACTIVE_JOB))
                        .order_by(jobs.c.id.desc())
                        .limit(1)
                    )
                )
                .mappings()
                .first()
            )
            if active is not None:
                return ExclusiveOutcome(_job_and_latest(active), created=False, used=used)
            if rule.quota is not None and used >= rule.quota:
                return ExclusiveOutcome(None, created=False, used=used)
            [job] = await self._insert_rows(conn, tenant_id, owner, [(new, None)])
        return ExclusiveOutcome(job, created=True, used=used + 1)
