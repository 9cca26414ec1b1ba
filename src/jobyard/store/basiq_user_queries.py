"""Basiq users: one row per user, scoped to its tenant; each change is one conditional write.

A deletion removes the row (and with it the user's email and mobile); the user's connection
jobs stay, as jobs do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from jobyard.domain.basiq_users import PROFILE_FIELDS, BasiqProfile, BasiqUser
from jobyard.domain.ids import is_id, new_id
from jobyard.store.sql_store import SqlStoreBase
from jobyard.store.tables import basiq_users

T = basiq_users.c


def _user(r: Any) -> BasiqUser:
    return BasiqUser(
        id=str(r["id"]),
        tenant_id=str(r["tenant_id"]),
        profile=BasiqProfile(**{name: r[name] for name in PROFILE_FIELDS}),
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


def _named(tenant_id: str, user_id: str) -> list[sa.ColumnElement[bool]]:
    return [T.tenant_id == tenant_id, T.id == user_id]


class BasiqUserQueries(SqlStoreBase):
    async def basiq_user_create(self, tenant_id: str, profile: BasiqProfile) -> BasiqUser:
        values = {name: getattr(profile, name) for name in PROFILE_FIELDS}
        now = self._now()  # one instant: created and last updated alike
        async with self._write() as conn:
            result = await conn.execute(
                sa.insert(basiq_users)
                .values(
                    id=new_id(),
                    tenant_id=tenant_id,
                    created_at=now,
                    updated_at=now,
                    **values,
                )
                .returning(basiq_users)
            )
            return _user(result.mappings().one())

    async def basiq_user_get(self, tenant_id: str, user_id: str) -> BasiqUser | None:
        if not is_id(user_id):
            return None
        async with self._read() as conn:
            result = await conn.execute(sa.select(basiq_users).where(*_named(tenant_id, user_id)))
            r = result.mappings().first()
        return _user(r) if r else None

    async def basiq_user_update(
        self, tenant_id: str, user_id: str, changes: Mapping[str, str | None]
    ) -> BasiqUser | None:
        """Set the profile fields in `changes`, unless that would leave the user with neither
        an email nor a mobile; None when the tenant has no such user or the change was
        refused."""
        unknown = set(changes) - set(PROFILE_FIELDS)
        if unknown:
            raise ValueError(f"not profile fields: {sorted(unknown)}")
        if not is_id(user_id):
            return None

        def kept(name: str) -> sa.ColumnElement[bool]:
            if name in changes:
                return sa.true() if changes[name] is not None else sa.false()
            return T[name].is_not(None)

        reachable = sa.or_(kept("email"), kept("mobile"))
        async with self._write() as conn:
            result = await conn.execute(
                sa.update(basiq_users)
                .where(*_named(tenant_id, user_id), reachable)
                .values(updated_at=self._now(), **changes)
                .returning(basiq_users)
            )
            r = result.mappings().first()
        return _user(r) if r else None

    async def basiq_user_delete(self, tenant_id: str, user_id: str) -> bool:
        if not is_id(user_id):
            return False
        async with self._write() as conn:
            result = await conn.execute(sa.delete(basiq_users).where(*_named(tenant_id, user_id)))
        return bool(result.rowcount)
