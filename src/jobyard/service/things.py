"""The thing registry: things and thing groups with their members, per tenant.

Deleting a thing ends the queued executions fleet jobs made for it (`removed`: it is no longer
a target, as AWS IoT does); those go to the listeners of ended executions, so their fleet jobs
are judged at once. Executions already in progress go on: their device may still report. A
thing joining a group gets the continuous fleet jobs on that group in the same write.
"""

from __future__ import annotations

from jobyard.domain.errors import InvalidInput, NotFound
from jobyard.domain.things import Thing, ThingChanges, ThingGroup
from jobyard.service.auth import Principal
from jobyard.service.executions import EndedListeners
from jobyard.service.fleet_jobs import FleetJobService
from jobyard.service.permissions import Op
from jobyard.store.protocol import Store

MAX_PAGE = 250
MAX_ATTRIBUTES = 50


def _check_attributes(attributes: dict[str, str]) -> None:
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidInput(f"at most {MAX_ATTRIBUTES} attributes", field="attributes")


class ThingService:
    """Registering, changing and deleting things and groups takes the right to create jobs;
    reading, to read them."""

    def __init__(
        self,
        store: Store,
        ended: EndedListeners | None = None,
        fleets: FleetJobService | None = None,
    ) -> None:
        self.store = store
        self.ended = ended if ended is not None else EndedListeners()
        self.fleets = fleets

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

    async def update(self, principal: Principal, name: str, changes: ThingChanges) -> Thing:
        """Replace or merge the attributes, set or remove the type; one conditional write."""
        principal.require(Op.JOB_CREATE)
        if changes.thing_type is not None and changes.remove_thing_type:
            raise InvalidInput("name a thing type or remove it, not both", field="thingTypeName")
        _check_attributes(changes.attributes or {})
        changes.max_attributes = MAX_ATTRIBUTES
        thing = await self.store.thing_update(principal.tenant_id, name, changes)
        if thing is None:
            raise NotFound(f"thing {name} not found")
        return thing

    async def delete(self, principal: Principal, name: str, expected_version: int | None) -> None:
        """Delete the thing (as AWS does, a thing the tenant does not have is no error)."""
        principal.require(Op.JOB_CREATE)
        removed = await self.store.thing_delete(principal.tenant_id, name, expected_version)
        await self.ended.notify(removed)

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

    async def delete_group(
        self, principal: Principal, name: str, expected_version: int | None
    ) -> None:
        """Delete the group; its things stay, and so do the jobs made for its members."""
        principal.require(Op.JOB_CREATE)
        await self.store.thing_group_delete(principal.tenant_id, name, expected_version)

    async def add_to_group(self, principal: Principal, group_name: str, thing_name: str) -> None:
        """The thing joins the group, and with it the continuous jobs on the group, at once."""
        principal.require(Op.JOB_CREATE)
        group = await self.get_group(principal, group_name)
        thing = await self.get(principal, thing_name)
        tenant = principal.tenant_id
        fleets = self.fleets
        children = await fleets.joining(tenant, group.name, thing.name) if fleets else []
        if await self.store.thing_group_add(tenant, group, thing, children) and fleets:
            await fleets.released(tenant)

    async def remove_from_group(
        self, principal: Principal, group_name: str, thing_name: str
    ) -> None:
        """The thing leaves the group; its executions of jobs that targeted the group go on
        (as AWS IoT does, even for a continuous job)."""
        principal.require(Op.JOB_CREATE)
        group = await self.get_group(principal, group_name)
        thing = await self.get(principal, thing_name)
        await self.store.thing_group_remove(principal.tenant_id, group, thing)

    async def members(
        self, principal: Principal, group_name: str, after: str | None, limit: int
    ) -> list[str]:
        group = await self.get_group(principal, group_name)
        return await self.store.thing_group_members(
            principal.tenant_id, group, after, min(limit, MAX_PAGE)
        )
