"""What the SQLite and PostgreSQL backends share: engine, transactions, clock, tenants and keys.

The job and execution operations live in their own modules (`job_queries.py`,
`execution_queries.py`); each backend overrides what its own SQL does better.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from jobyard.domain.entities import ApiKey, Tenant
from jobyard.domain.errors import Conflict
from jobyard.domain.ids import new_id
from jobyard.store import rows
from jobyard.store.tables import api_keys, executions, signing_keys, tenants
from jobyard.store.types import UtcDateTime


class SqlStoreBase(ABC):
    dialect: str = ""

    def __init__(self, engine: AsyncEngine, url: str) -> None:
        self.engine = engine
        self.url = url

    # transactions and clock ------------------------------------------------------------------
    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    @abstractmethod
    def _now(self) -> sa.ColumnElement[datetime]:
        """The database clock as a SQL expression."""

    @abstractmethod
    def _now_plus(self, seconds: sa.ColumnElement[Any] | float) -> sa.ColumnElement[datetime]:
        """The database clock plus `seconds` (a number or a column), as a SQL expression."""

    @staticmethod
    def _execution_named(
        tenant_id: str,
        job_id: str,
        execution_number: int,
        worker_id: str | None,
        holder: str | None = None,
    ) -> list[sa.ColumnElement[bool]]:
        """The conditions naming one execution of the tenant, held by `worker_id` and claimed
        by the key subject `holder`, each if given."""
        cond = [
            executions.c.tenant_id == tenant_id,
            executions.c.job_id == job_id,
            executions.c.execution_number == execution_number,
        ]
        if worker_id is not None:
            cond.append(executions.c.worker_id == worker_id)
        if holder is not None:
            cond.append(executions.c.holder == holder)
        return cond

    async def now(self) -> datetime:
        async with self._read() as conn:
            value = (
                await conn.execute(sa.select(sa.type_coerce(self._now(), UtcDateTime)))
            ).scalar_one()
        assert isinstance(value, datetime)
        return value

    async def upgrade(self) -> None:
        from jobyard.store.migrate import upgrade  # alembic is only loaded when it is needed

        await upgrade(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()

    # tenants -------------------------------------------------------------------------------
    async def tenant_create(self, name: str) -> Tenant:
        """A new tenant. The unique index decides a taken name, so two concurrent creates with
        one name cannot both win; the loser gets Conflict."""
        tid = new_id()
        try:
            async with self._write() as conn:
                row = (
                    (
                        await conn.execute(
                            sa.insert(tenants)
                            .values(id=tid, tenant_id=tid, name=name, created_at=self._now())
                            .returning(tenants)
                        )
                    )
                    .mappings()
                    .one()
                )
        except IntegrityError:
            raise Conflict("a tenant with this name exists", field="name") from None
        return rows.tenant_from(row)

    async def tenant_list(self) -> list[Tenant]:
        async with self._read() as conn:
            result = await conn.execute(sa.select(tenants).order_by(tenants.c.created_at))
            return [rows.tenant_from(r) for r in result.mappings()]

    async def tenant_get(self, tenant_id: str) -> Tenant | None:
        async with self._read() as conn:
            r = (
                (await conn.execute(sa.select(tenants).where(tenants.c.id == tenant_id)))
                .mappings()
                .first()
            )
        return rows.tenant_from(r) if r else None

    # api keys ------------------------------------------------------------------------------
    async def key_insert(self, key: ApiKey) -> None:
        async with self._write() as conn:
            await conn.execute(
                sa.insert(api_keys).values(
                    id=key.id,
                    tenant_id=key.tenant_id,
                    name=key.name,
                    role=key.role,
                    prefix=key.prefix,
                    secret_hash=key.secret_hash,
                    is_system=key.is_system,
                    queues=key.queues,
                    created_at=key.created_at,
                    expires_at=key.expires_at,
                    type=key.type,
                    subject=key.subject,
                    things=key.things,
                    secret_enc=key.secret_enc,
                )
            )

    async def key_get_by_prefix(self, prefix: str) -> ApiKey | None:
        async with self._read() as conn:
            r = (
                (await conn.execute(sa.select(api_keys).where(api_keys.c.prefix == prefix)))
                .mappings()
                .first()
            )
        return rows.key_from(r) if r else None

    async def key_list(self, tenant_id: str) -> list[ApiKey]:
        async with self._read() as conn:
            result = await conn.execute(
                sa.select(api_keys)
                .where(api_keys.c.tenant_id == tenant_id)
                .order_by(api_keys.c.created_at)
            )
            return [rows.key_from(r) for r in result.mappings()]

    async def key_revoke(self, tenant_id: str, key_id: str) -> ApiKey | None:
        async with self._write() as conn:
            r = (
                (
                    await conn.execute(
                        sa.update(api_keys)
                        .where(
                            api_keys.c.tenant_id == tenant_id,
                            api_keys.c.id == key_id,
                            api_keys.c.revoked_at.is_(None),
                        )
                        .values(revoked_at=self._now())
                        .returning(api_keys)
                    )
                )
                .mappings()
                .first()
            )
        return rows.key_from(r) if r else None

    async def key_get(self, tenant_id: str, key_id: str) -> ApiKey | None:
        async with self._read() as conn:
            stmt = sa.select(api_keys).where(
                api_keys.c.tenant_id == tenant_id, api_keys.c.id == key_id
            )
            r = (await conn.execute(stmt)).mappings().first()
        return rows.key_from(r) if r else None

    async def key_expire(self, tenant_id: str, key_id: str, at: datetime) -> ApiKey | None:
        """Bring a live key's end forward to `at` (never later than it was); None when the key
        is unknown or revoked."""
        live = [
            api_keys.c.tenant_id == tenant_id,
            api_keys.c.id == key_id,
            api_keys.c.revoked_at.is_(None),
        ]
        later = sa.or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > at)
        async with self._write() as conn:
            await conn.execute(sa.update(api_keys).where(*live, later).values(expires_at=at))
            r = (await conn.execute(sa.select(api_keys).where(*live))).mappings().first()
        return rows.key_from(r) if r else None

    async def sealed_secrets(self) -> list[str]:
        """The newest sealed secret of each kind (access keys, URL-signing keys): enough to tell
        whether this server's key is the one they were sealed under."""
        newest_key = (
            sa.select(api_keys.c.secret_enc)
            .where(api_keys.c.secret_enc.is_not(None))
            .order_by(api_keys.c.created_at.desc())
            .limit(1)
        )
        newest_signing = (
            sa.select(signing_keys.c.secret)
            .where(signing_keys.c.retired_at.is_(None))
            .order_by(signing_keys.c.created_at.desc())
            .limit(1)
        )
        async with self._read() as conn:
            found = [(await conn.execute(q)).scalar() for q in (newest_key, newest_signing)]
        return [str(v) for v in found if v is not None]

    async def key_count(self) -> int:
        async with self._read() as conn:
            n = (await conn.execute(sa.select(sa.func.count()).select_from(api_keys))).scalar_one()
        return int(n)
