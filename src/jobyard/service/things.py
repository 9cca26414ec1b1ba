"""The thing registry: things and thing groups with their members, per tenant."""

from __future__ import annotations

from jobyard.domain.errors import InvalidInput, NotFound
from jobyard.domain.things import Thing, ThingGroup
from jobyard.service.auth import Principal
from jobyard.service.permissions import Op
from jobyard.store.protocol import Store

MAX_PAGE = 250
MAX_ATTRIBUTES = 50


def _check_attributes(attributes: dict[str, str]) -> None:
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidInput(f"at most {MAX_ATTRIBUTES} attributes", field="attributes")


class ThingService:
    """Registering things and groups takes the right to create jobs; reading, to read them."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def create(
        self, principal: Principal, name: str, thing_type: str | None, attributes: dict[str, str]
    ) -> Thing:
        principal.require(Op.JOB_CREATE)
        _check_attributes(attributes)
        return await self.store.thing_create(principal.tenant_id, name, thing_type, attributes)

    async def get(self, principal: Principal, name: str) -> Thing:
        principal.require(Op.JOB_READ)
        thing = await self.store.thing_get(principal.tenant_id, name)
        if thing is None:
            raise NotFound(f"thing {name} not found")
        return thing

    async def find(self, principal: Principal, after: str | None, limit: int) -> list[Thing]:
        principal.require(Op.JOB_READ)
        return await self.store.thing_list(principal.tenant_id, after, min(limit, MAX_PAGE))

    async def create_group(
        self, principal: Principal, name: str, description: str | None, attributes: dict[str, str]
    ) -> ThingGroup:
        principal.require(Op.JOB_CREATE)
        _check_attributes(attributes)
        return await self.store.thing_group_create(
            principal.tenant_id, name, description, attributes
        )

    async def get_group(self, principal: Principal, name: str) -> ThingGroup:
        principal.require(Op.JOB_READ)
        group = await self.store.thing_group_get(principal.tenant_id, name)
        if group is None:
            raise NotFound(f"thing group {name} not found")
        return group

    async def add_to_group(self, principal: Principal, group_name: str, thing_name: str) -> None:
        principal.require(Op.JOB_CREATE)
        group = await self.get_group(principal, group_name)
        thing = await self.get(principal, thing_name)
        await self.store.thing_group_add(principal.tenant_id, group, thing)

    async def members(
        self, principal: Principal, group_name: str, after: str | None, limit: int
    ) -> list[str]:
        group = await self.get_group(principal, group_name)
        return await self.store.thing_group_members(
            principal.tenant_id, group, after, min(limit, MAX_PAGE)
        )
