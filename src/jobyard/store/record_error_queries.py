"""Record errors (the records a worker could not process) and the keys that sign their file URLs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from jobyard.domain.entities import NewRecordError, RecordError
from jobyard.domain.ids import new_id
from jobyard.store.sql_store import SqlStoreBase
from jobyard.store.tables import record_errors, signing_keys


def _record_error(r: Any) -> RecordError:
    return RecordError(
        id=str(r.id),
        job_id=str(r.job_id),
        execution_number=r.execution_number,
        message=r.message,
        code=r.code,
        source=r.source,
        data=r.data,
        retriable=bool(r.retriable),
        created_at=r.created_at,
        resolved_at=r.resolved_at,
    )


class RecordErrorQueries(SqlStoreBase):
    async def record_error_append(
        self,
        tenant_id: str,
        job_id: str,
        execution_number: int,
        errors: Sequence[NewRecordError],
        worker_id: str | None = None,
        holder: str | None = None,
    ) -> int | None:
        """Add errors to an execution; None when it does not exist (or is another worker's)."""
        cond = self._execution_named(tenant_id, job_id, execution_number, worker_id, holder)
        async with self._write() as conn:
            found = (await conn.execute(sa.select(sa.literal(1)).where(*cond))).first()
            if found is None:
                return None
            if errors:
                await conn.execute(
                    sa.insert(record_errors).values(created_at=self._now()),
                    [
                        {
                            "id": new_id(),
                            "tenant_id": tenant_id,
                            "job_id": job_id,
                            "execution_number": execution_number,
                            "code": e.code,
                            "message": e.message,
                            "source": e.source,
                            "data": e.data,
                            "retriable": e.retriable,
                        }
                        for e in errors
                    ],
                )
        return len(errors)

    async def record_error_list(
        self,
        tenant_id: str,
        job_id: str,
        *,
        after_id: str | None,
        limit: int,
        resolved: bool | None = None,
    ) -> list[RecordError]:
        """Oldest first, `limit` at a time after `after_id`."""
        stmt = sa.select(record_errors).where(
            record_errors.c.tenant_id == tenant_id, record_errors.c.job_id == job_id
        )
        if after_id is not None:
            stmt = stmt.where(record_errors.c.id > after_id)
        if resolved is not None:
            column = record_errors.c.resolved_at
            stmt = stmt.where(column.is_not(None) if resolved else column.is_(None))
        stmt = stmt.order_by(record_errors.c.id).limit(limit)
        async with self._read() as conn:
            return [_record_error(r) for r in await conn.execute(stmt)]

    async def record_error_resolve(
        self, tenant_id: str, job_id: str, ids: Sequence[str] | None
    ) -> int:
        """Mark errors resolved: those named, or all of the job's with `ids` None."""
        cond = [
            record_errors.c.tenant_id == tenant_id,
            record_errors.c.job_id == job_id,
            record_errors.c.resolved_at.is_(None),
        ]
        if ids is not None:
            cond.append(record_errors.c.id.in_(list(ids)))
        async with self._write() as conn:
            result = await conn.execute(
                sa.update(record_errors).where(*cond).values(resolved_at=self._now())
            )
        return int(result.rowcount or 0)

    async def signing_key_get(
        self, tenant_id: str, key_id: str | None = None
    ) -> tuple[str, str] | None:
        """The tenant's live URL-signing key `key_id`, or its newest live one: (id, secret as
        stored, i.e. sealed by the service), or None. A retired key voids every URL it signed."""
        stmt = sa.select(signing_keys.c.id, signing_keys.c.secret).where(
            signing_keys.c.tenant_id == tenant_id, signing_keys.c.retired_at.is_(None)
        )
        if key_id is not None:
            stmt = stmt.where(signing_keys.c.id == key_id)
        stmt = stmt.order_by(signing_keys.c.created_at.desc(), signing_keys.c.id.desc()).limit(1)
        async with self._read() as conn:
            row = (await conn.execute(stmt)).first()
        return (str(row.id), str(row.secret)) if row is not None else None

    async def signing_key_add(
        self, tenant_id: str, key_id: str, secret: str, *, retire_others: bool = False
    ) -> int:
        """Keep a new signing key (its secret already sealed); with `retire_others`, retire the
        tenant's other live keys in the same transaction. Answers how many were retired."""
        async with self._write() as conn:
            retired = 0
            if retire_others:
                result = await conn.execute(
                    sa.update(signing_keys)
                    .where(
                        signing_keys.c.tenant_id == tenant_id, signing_keys.c.retired_at.is_(None)
                    )
                    .values(retired_at=self._now())
                )
                retired = int(result.rowcount or 0)
            await conn.execute(
                sa.insert(signing_keys).values(
                    id=key_id, tenant_id=tenant_id, secret=secret, created_at=self._now()
                )
            )
        return retired
