"""The thing registry: things and thing groups with their members, one tenant at a time.

Each change is one conditional write: an update or delete names the row's version when the
caller expects one, and a miss says why (a version moved on, or no such row). Deleting a thing
ends the queued executions fleet jobs made for it (`removed`: it is no longer a target); a
thing joining a group gets, in the same transaction, the continuous fleet jobs on the group.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from jobyard.domain.entities import Execution, NewJob
from jobyard.domain.errors import Conflict
from jobyard.domain.ids import new_id
from jobyard.domain.states import ExecutionStatus, JobStatus
from jobyard.domain.things import FleetStatus, Thing, ThingChanges, ThingGroup
from jobyard.store import rows
from jobyard.store.job_queries import JobQueries
from jobyard.store.tables import (
    executions,
    fleet_jobs,
    iot_thing_group_members,
    iot_thing_groups,
    iot_things,
    jobs,
)

ES = ExecutionStatus
Members = iot_thing_group_members


def _thing(r: Any) -> Thing:
    return Thing(
        id=str(r["id"]),
        tenant_id=str(r["tenant_id"]),
        name=r["name"],
        attributes=r["attributes"] or {},
        version=r["version"],
        created_at=r["created_at"],
        thing_type=r["thing_type"],
    )


def _group(r: Any) -> ThingGroup:
    return ThingGroup(
        id=str(r["id"]),
        tenant_id=str(r["tenant_id"]),
        name=r["name"],
        attributes=r["attributes"] or {},
        version=r["version"],
        created_at=r["created_at"],
        description=r["description"],
    )


def _version_conflict(kind: str, expected: int, current: int) -> Conflict:
    return Conflict(
        f"{kind} version mismatch: expected {expected}, current {current}",
        reason="version_mismatch",
    )


class ThingQueries(JobQueries):
    # things and thing groups: both a named registry row of the tenant -----------------------
    async def _named_insert(
        self, table: sa.Table, values: dict[str, Any], taken: Conflict
    ) -> sa.RowMapping:
        """Insert one named row of the tenant; `taken` when the name is."""
        row = {"id": new_id(), "version": 1, "created_at": self._now(), **values}
        try:
            async with self._write() as conn:
                result = await conn.execute(sa.insert(table).values(**row).returning(table))
                inserted: sa.RowMapping = result.mappings().one()
                return inserted
        except IntegrityError:
            raise taken from None

    async def _named_get(self, table: sa.Table, tenant_id: str, name: str) -> sa.RowMapping | None:
        where = (table.c.tenant_id == tenant_id, table.c.name == name)
        async with self._read() as conn:
            return (await conn.execute(sa.select(table).where(*where))).mappings().first()

    async def _named_delete(
        self,
        conn: AsyncConnection,
        table: sa.Table,
        tenant_id: str,
        name: str,
        expected: int | None,
    ) -> str | None:
        """Delete one named row (of `expected` version, if given): its id, or None when the
        tenant has none of that name. Conflict when its version is another."""
        named = (table.c.tenant_id == tenant_id, table.c.name == name)
        versioned = () if expected is None else (table.c.version == expected,)
        gone = await conn.execute(sa.delete(table).where(*named, *versioned).returning(table.c.id))
        row = gone.first()
        if row is not None:
            return str(row.id)
        current = (await conn.execute(sa.select(table.c.version).where(*named))).first()
        if current is not None and expected is not None:
            raise _version_conflict(str(table.name), expected, int(current.version))
        return None

    async def thing_create(
        self, tenant_id: str, name: str, thing_type: str | None, attributes: dict[str, str]
    ) -> Thing:
        """A new thing; Conflict when the tenant has one of that name."""
        values = {"tenant_id": tenant_id, "name": name, "thing_type": thing_type}
        taken = Conflict("a thing with this name exists", field="thingName")
        return _thing(
            await self._named_insert(iot_things, {**values, "attributes": attributes}, taken)
        )

    async def thing_get(self, tenant_id: str, name: str) -> Thing | None:
        r = await self._named_get(iot_things, tenant_id, name)
        return _thing(r) if r else None

    async def thing_list(self, tenant_id: str, after: str | None, limit: int) -> list[Thing]:
        conds = [iot_things.c.tenant_id == tenant_id]
        if after is not None:
            conds.append(iot_things.c.name > after)
        async with self._read() as conn:
            result = await conn.execute(
                sa.select(iot_things).where(*conds).order_by(iot_things.c.name).limit(limit)
            )
            return [_thing(r) for r in result.mappings()]

    async def thing_update(self, tenant_id: str, name: str, changes: ThingChanges) -> Thing | None:
        """Apply `changes` in one conditional write on the version read in the same write
        transaction (or the version expected): a merge never loses a concurrent one. None when
        the tenant has no such thing; Conflict on a version expected that is not the current."""
        named = (iot_things.c.tenant_id == tenant_id, iot_things.c.name == name)
        async with self._write() as conn:
            current = (
                (await conn.execute(sa.select(iot_things).where(*named).with_for_update()))
                .mappings()
                .first()
            )
            if current is None:
                return None
            version = changes.expected_version
            if version is None:
                version = int(current["version"])
            values: dict[str, Any] = {
                "attributes": changes.apply(current["attributes"] or {}),
                "version": iot_things.c.version + 1,
            }
            if changes.remove_thing_type:
                values["thing_type"] = None
            elif changes.thing_type is not None:
                values["thing_type"] = changes.thing_type
            updated = (
                (
                    await conn.execute(
                        sa.update(iot_things)
                        .where(*named, iot_things.c.version == version)
                        .values(**values)
                        .returning(iot_things)
                    )
                )
                .mappings()
                .first()
            )
            if updated is None:
                raise _version_conflict("thing", version, int(current["version"]))
            return _thing(updated)

    async def thing_delete(
        self, tenant_id: str, name: str, expected_version: int | None
    ) -> list[Execution]:
        """Delete the thing (of that version, if given) and its group memberships, and end the
        queued executions of fleet jobs made for it `removed`, in one transaction; answers
        those executions. Nothing happens for a thing the tenant does not have."""
        async with self._write() as conn:
            thing_id = await self._named_delete(conn, iot_things, tenant_id, name, expected_version)
            if thing_id is None:
                return []
            await conn.execute(
                sa.delete(Members).where(
                    Members.c.tenant_id == tenant_id, Members.c.thing_id == thing_id
                )
            )
            return await self._remove_queued(conn, tenant_id, name)

    async def _remove_queued(
        self, conn: AsyncConnection, tenant_id: str, thing: str
    ) -> list[Execution]:
        """End `removed` the thing's queued executions of fleet jobs' children, and their jobs."""
        children = (
            sa.select(jobs.c.id)
            .join(fleet_jobs, fleet_jobs.c.id == jobs.c.parent_id)
            .where(jobs.c.tenant_id == tenant_id)
        )
        now = self._now()
        result = await conn.execute(
            sa.update(executions)
            .where(
                executions.c.tenant_id == tenant_id,
                executions.c.target == thing,
                executions.c.status == ES.QUEUED.value,
                executions.c.job_id.in_(children),
            )
            .values(
                status=ES.REMOVED.value,
                version=executions.c.version + 1,
                completed_at=now,
                last_updated_at=now,
            )
            .returning(executions)
        )
        removed = [rows.execution_from(r) for r in result.mappings()]
        for ex in removed:
            await conn.execute(
                sa.update(jobs)
                .where(jobs.c.id == ex.job_id, jobs.c.attempts == ex.execution_number)
                .values(status=JobStatus.REMOVED.value, completed_at=now, updated_at=now)
            )
        return removed

    async def thing_group_create(
        self, tenant_id: str, name: str, description: str | None, attributes: dict[str, str]
    ) -> ThingGroup:
        """A new thing group; Conflict when the tenant has one of that name."""
        values = {"tenant_id": tenant_id, "name": name, "description": description}
        taken = Conflict("a thing group with this name exists", field="thingGroupName")
        row = await self._named_insert(
            iot_thing_groups, {**values, "attributes": attributes}, taken
        )
        return _group(row)

    async def thing_group_get(self, tenant_id: str, name: str) -> ThingGroup | None:
        r = await self._named_get(iot_thing_groups, tenant_id, name)
        return _group(r) if r else None

    async def thing_group_delete(
        self, tenant_id: str, name: str, expected_version: int | None
    ) -> bool:
        """Delete the group (of that version, if given) with its memberships (the things stay);
        False when the tenant has no such group."""
        async with self._write() as conn:
            group_id = await self._named_delete(
                conn, iot_thing_groups, tenant_id, name, expected_version
            )
            if group_id is None:
                return False
            await conn.execute(
                sa.delete(Members).where(
                    Members.c.tenant_id == tenant_id, Members.c.group_id == group_id
                )
            )
            return True

    async def thing_group_add(
        self,
        tenant_id: str,
        group: ThingGroup,
        thing: Thing,
        children: Sequence[tuple[str, NewJob]] = (),
    ) -> int:
        """Make `thing` a member of `group` (a member already is one) and, in the same
        transaction, add each (fleet job id, child) of `children`: only to a fleet job still in
        progress (its row is locked, so a cancel waits for the child and then sees it) and
        that has no child for the thing yet. Answers how many children were added."""
        async with self._write() as conn:
            known = await conn.execute(
                sa.select(Members.c.thing_id).where(
                    Members.c.tenant_id == tenant_id,
                    Members.c.group_id == group.id,
                    Members.c.thing_id == thing.id,
                )
            )
            if known.first() is None:
                await conn.execute(
                    sa.insert(Members).values(
                        group_id=group.id,
                        thing_id=thing.id,
                        tenant_id=tenant_id,
                        added_at=self._now(),
                    )
                )
            added = 0
            for fleet_id, child in children:
                added += await self._add_child(conn, tenant_id, fleet_id, thing.name, child)
            return added

    async def _add_child(
        self, conn: AsyncConnection, tenant_id: str, fleet_id: str, thing: str, child: NewJob
    ) -> int:
        parent = (
            await conn.execute(
                sa.select(jobs.c.owner)
                .select_from(fleet_jobs.join(jobs, jobs.c.id == fleet_jobs.c.id))
                .where(
                    fleet_jobs.c.tenant_id == tenant_id,
                    fleet_jobs.c.id == fleet_id,
                    fleet_jobs.c.status == FleetStatus.IN_PROGRESS.value,
                )
                .with_for_update(of=fleet_jobs)
            )
        ).first()
        has_one = (
            await conn.execute(
                sa.select(executions.c.job_id)
                .join(jobs, jobs.c.id == executions.c.job_id)
                .where(
                    jobs.c.tenant_id == tenant_id,
                    jobs.c.parent_id == fleet_id,
                    executions.c.target == thing,
                )
                .limit(1)
            )
        ).first()
        if parent is None or has_one is not None:
            return 0
        child.parent_id = fleet_id
        await self._insert_rows(conn, tenant_id, parent.owner, [(child, None)])
        return 1

    async def thing_group_remove(self, tenant_id: str, group: ThingGroup, thing: Thing) -> bool:
        """`thing` is no longer a member of `group`; False when it was not one."""
        async with self._write() as conn:
            gone = await conn.execute(
                sa.delete(Members)
                .where(
                    Members.c.tenant_id == tenant_id,
                    Members.c.group_id == group.id,
                    Members.c.thing_id == thing.id,
                )
                .returning(Members.c.thing_id)
            )
            return gone.first() is not None

    async def thing_group_members(
        self, tenant_id: str, group: ThingGroup, after: str | None, limit: int
    ) -> list[str]:
        conds = [Members.c.tenant_id == tenant_id, Members.c.group_id == group.id]
        if after is not None:
            conds.append(iot_things.c.name > after)
        stmt = (
            sa.select(iot_things.c.name)
            .select_from(Members.join(iot_things, iot_things.c.id == Members.c.thing_id))
            .where(*conds)
            .order_by(iot_things.c.name)
            .limit(limit)
        )
        async with self._read() as conn:
            return [str(r.name) for r in await conn.execute(stmt)]
