"""Users of the Basiq face, per tenant: creating, changing or deleting one takes the right to
create jobs (a user is what connection jobs are started for); reading one, to read jobs."""

from __future__ import annotations

from collections.abc import Mapping

from jobyard.domain.basiq_users import PROFILE_FIELDS, BasiqProfile, BasiqUser
from jobyard.domain.errors import InvalidInput, NotFound
from jobyard.service.auth import Principal
from jobyard.service.permissions import Op
from jobyard.store.protocol import Store

CONTACT_REQUIRED = "one of email or mobile is required"


def _not_found(user_id: str) -> NotFound:
    return NotFound(f"user {user_id} not found")


class BasiqUserService:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def create(self, principal: Principal, profile: BasiqProfile) -> BasiqUser:
        principal.require(Op.JOB_CREATE)
        if profile.email is None and profile.mobile is None:
            raise InvalidInput(CONTACT_REQUIRED, field="user")
        return await self.store.basiq_user_create(principal.tenant_id, profile)

    async def get(self, principal: Principal, user_id: str) -> BasiqUser:
        principal.require(Op.JOB_READ)
        user = await self.store.basiq_user_get(principal.tenant_id, user_id)
        if user is None:
            raise _not_found(user_id)
        return user

    async def update(
        self, principal: Principal, user_id: str, changes: Mapping[str, str | None]
    ) -> BasiqUser:
        """Set the given profile fields, keeping the others; a change that would leave the user
        with neither an email nor a mobile is refused."""
        principal.require(Op.JOB_CREATE)
        unknown = sorted(set(changes) - set(PROFILE_FIELDS))
        if unknown:
            raise InvalidInput(f"unknown user fields: {', '.join(unknown)}", field=unknown[0])
        user = await self.store.basiq_user_update(principal.tenant_id, user_id, changes)
        if user is None:
            if await self.store.basiq_user_get(principal.tenant_id, user_id) is None:
                raise _not_found(user_id)
            raise InvalidInput(CONTACT_REQUIRED, field="user")
        return user

    async def delete(self, principal: Principal, user_id: str) -> None:
        principal.require(Op.JOB_CREATE)
        if not await self.store.basiq_user_delete(principal.tenant_id, user_id):
            raise _not_found(user_id)
