"""Fleet jobs: one job for many things (named targets and the members of thing groups).

A fleet job is a parent job that runs nothing, with one child job per thing (`targets` = that
thing, so the child's executions are the thing's). The parent's status is derived: in progress
until every child has ended, then completed; canceled when canceled (by a user, or by an abort
criterion). A rollout rate staggers the children's start times, so no more than that many are
released per minute. A continuous job also runs on the things that join a target group later,
and is never completed (it may be canceled). Abort criteria and completion are judged each time
an execution of a child ends, wherever it ends: a device's report, the native API, a cancel, or
the sweeper's clock (the runtime adds `executions_ended` to the listeners of ended executions);
and again whenever the job is read, which settles a job whose judgment was missed (a crash in
between).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from jobyard.domain.entities import Execution, KillOrder, NewJob
from jobyard.domain.errors import Conflict, InvalidInput, NotFound
from jobyard.domain.states import TERMINAL_EXECUTION, ExecutionStatus
from jobyard.domain.things import (
    FleetChanges,
    FleetJob,
    FleetStatus,
    NewFleetJob,
    ThingExecution,
)
from jobyard.notify.protocol import Notifier, queue_topic
from jobyard.service.auth import Principal
from jobyard.service.executions import EndedListeners
from jobyard.service.ownership import may_change
from jobyard.service.permissions import Op
from jobyard.store.protocol import Store

QUEUE = "iot"  # the children's queue: any worker may run them there too
PARENT_QUEUE = "iot.fleet"
JOB_TYPE = "iot.job"
PARENT_TYPE = "iot.fleet"
JOB_LABEL = "iot.job"
THING_LABEL = "iot.thing"
MAX_THINGS = 1000
ABORT_REASON = "ABORTED"
MAX_ATTEMPTS = 11  # a first attempt and AWS's most retries (10)

ES = ExecutionStatus


def _child(
    name: str,
    thing: str,
    document: dict[str, Any] | None,
    due: datetime | None,
    timeout_s: int | None,
    retries: int,
) -> NewJob:
    """The child job that runs fleet job `name` on one thing."""
    return NewJob(
        type=JOB_TYPE,
        queue=QUEUE,
        document=document,
        labels={JOB_LABEL: name, THING_LABEL: thing},
        targets=[thing],
        scheduled_at=due,
        timeout_s=timeout_s,
        max_attempts=1 + retries,
        backoff_base_s=0.0,
        backoff_max_s=0.0,
    )


def targets_group(fleet: FleetJob, group: str) -> bool:
    """True when one of the job's targets is the thing group `group` (by its ARN's resource
    part, whatever the region and account)."""
    return any(t.rsplit(":", 1)[-1] == f"thinggroup/{group}" for t in fleet.targets)


class FleetJobService:
    def __init__(self, store: Store, notifier: Notifier) -> None:
        self.store = store
        self.notifier = notifier

    def listen(self, ended: EndedListeners) -> None:
        """Judge fleet jobs whenever executions end (the runtime calls this once)."""
        ended.add(self.executions_ended)

    async def executions_ended(self, ended: Sequence[Execution]) -> None:
        """Executions ended: settle the fleet jobs of those that are fleet children. Only a
        child's type is looked at; no query is made when none is one."""
        by_tenant: dict[str, set[str]] = {}
        for ex in ended:
            if ex.type == JOB_TYPE:
                by_tenant.setdefault(ex.tenant_id, set()).add(ex.job_id)
        for tenant_id, job_ids in by_tenant.items():
            for name in await self.store.fleet_names_of(tenant_id, sorted(job_ids)):
                fleet = await self.store.fleet_get(tenant_id, name)
                if fleet is not None:
                    await self._settle(tenant_id, fleet, None)

    async def create(
        self, principal: Principal, new: NewFleetJob, thing_names: list[str], groups: list[str]
    ) -> FleetJob:
        """Resolve the targets (every thing must exist; a group stands for its members now),
        then write the parent, its children and the fleet row at once."""
        principal.require(Op.JOB_CREATE)
        tenant = principal.tenant_id
        things: list[str] = []
        for name in thing_names:
            if await self.store.thing_get(tenant, name) is None:
                raise NotFound(f"thing {name} not found")
            things.append(name)
        for group_name in groups:
            group = await self.store.thing_group_get(tenant, group_name)
            if group is None:
                raise NotFound(f"thing group {group_name} not found")
            things += await self.store.thing_group_members(tenant, group, None, MAX_THINGS + 1)
        new.things = list(dict.fromkeys(things))
        if not new.things and not new.continuous:  # a continuous job waits for members
            raise InvalidInput("the targets name no thing", field="targets")
        if len(new.things) > MAX_THINGS:
            raise InvalidInput(f"at most {MAX_THINGS} things in one job", field="targets")
        now = await self.store.now()
        timeout_s = new.timeout_minutes * 60 if new.timeout_minutes else None
        children = []
        for i, thing in enumerate(new.things):
            due = None
            if new.rollout_per_minute and i:
                due = now + timedelta(seconds=i * 60.0 / new.rollout_per_minute)
            children.append(_child(new.name, thing, new.document, due, timeout_s, new.retries))
        parent = NewJob(
            type=PARENT_TYPE,
            queue=PARENT_QUEUE,
            document=new.document,
            labels={JOB_LABEL: new.name},
            timeout_s=timeout_s,
            max_attempts=1,
        )
        fleet = await self.store.fleet_insert(tenant, principal.owner, new, parent, children)
        await self.notifier.publish({queue_topic(tenant, QUEUE)})
        return fleet

    async def joining(self, tenant_id: str, group: str, thing: str) -> list[tuple[str, NewJob]]:
        """The children a thing joining `group` gets: one of each continuous job in progress
        that targets the group (the store adds only those the thing has not got yet)."""
        return [
            (
                fleet.id,
                _child(
                    fleet.name,
                    thing,
                    fleet.document,
                    None,
                    fleet.timeout_minutes * 60 if fleet.timeout_minutes else None,
                    fleet.retries,
                ),
            )
            for fleet in await self.store.fleet_continuous(tenant_id)
            if targets_group(fleet, group)
        ]

    async def released(self, tenant_id: str) -> None:
        """New children are queued: wake the devices and workers waiting on the queue."""
        await self.notifier.publish({queue_topic(tenant_id, QUEUE)})

    async def get(self, principal: Principal, name: str) -> FleetJob:
        principal.require(Op.JOB_READ)
        fleet = await self.store.fleet_get(principal.tenant_id, name)
        if fleet is None:
            raise NotFound(f"job {name} not found")
        return await self._settle(principal.tenant_id, fleet, principal.key_id)

    async def find(
        self, principal: Principal, status: FleetStatus | None, after: str | None, limit: int
    ) -> list[FleetJob]:
        principal.require(Op.JOB_READ)
        found = await self.store.fleet_list(principal.tenant_id, None, after, limit)
        out = []
        for fleet in found:
            if fleet.status is FleetStatus.IN_PROGRESS:
                fleet = await self.get(principal, fleet.name)
            if status is None or fleet.status is status:
                out.append(fleet)
        return out

    async def execution_ended(self, principal: Principal, name: str) -> None:
        """An execution of the fleet job `name` ended: judge abort criteria and completion."""
        fleet = await self.store.fleet_get(principal.tenant_id, name)
        if fleet is not None:
            await self._settle(principal.tenant_id, fleet, principal.key_id)

    async def _settle(self, tenant_id: str, fleet: FleetJob, actor: str | None) -> FleetJob:
        """Cancel an in-progress job whose abort criteria are met, or complete it once every
        child has ended; `actor` is the key that caused it (None: the server's clock)."""
        if fleet.status is not FleetStatus.IN_PROGRESS:
            return fleet
        if any(c.reached(fleet.counts) for c in fleet.abort):
            await self._cancel(
                tenant_id, fleet, actor, False, ABORT_REASON, "abort criteria were met"
            )
        elif (
            not fleet.continuous
            and sum(n for s, n in fleet.counts.items() if s not in TERMINAL_EXECUTION) == 0
        ):
            await self.store.fleet_set_status(tenant_id, fleet.id, FleetStatus.COMPLETED)
        else:
            return fleet
        found = await self.store.fleet_get(tenant_id, fleet.name)
        return found or fleet

    async def cancel(
        self,
        principal: Principal,
        name: str,
        force: bool,
        reason_code: str | None,
        comment: str | None,
    ) -> FleetJob:
        """Cancel the job: its queued executions end canceled at once; in-progress ones go on
        unless `force`. A canceled job may be canceled again with `force`."""
        fleet = await self.get(principal, name)
        await may_change(self.store, principal, fleet.id, Op.JOB_CANCEL)
        if fleet.status is FleetStatus.COMPLETED:
            raise Conflict(f"job {name} is already completed", reason="invalid_transition")
        await self._cancel(
            principal.tenant_id, fleet, principal.key_id, force, reason_code, comment
        )
        return await self.get(principal, name)

    async def _cancel(
        self,
        tenant_id: str,
        fleet: FleetJob,
        actor: str | None,
        force: bool,
        reason_code: str | None,
        comment: str | None,
    ) -> None:
        await self.store.fleet_set_status(
            tenant_id,
            fleet.id,
            FleetStatus.CANCELED,
            force=force,
            reason_code=reason_code,
            comment=comment,
        )
        statuses = [ES.QUEUED, ES.IN_PROGRESS] if force else [ES.QUEUED]
        running = await self.store.thing_executions(
            tenant_id, "", fleet_id=fleet.id, statuses=statuses, limit=MAX_THINGS
        )
        now = await self.store.now()
        order = KillOrder(
            requested_at=now,
            requested_by=actor,
            force=force,
            reason=comment or reason_code,
        )
        for te in running:
            try:
                await self.store.job_cancel(tenant_id, te.execution.job_id, order)
            except (Conflict, NotFound):
                continue  # it ended meanwhile

    async def update(self, principal: Principal, name: str, changes: FleetChanges) -> FleetJob:
        """Change an in-progress job's settings: they take effect for the executions not yet
        released (rollout rate), started (timeout) or ended (retries); the abort criteria are
        judged again at once, over the counts as they stand."""
        fleet = await self.get(principal, name)
        await may_change(self.store, principal, fleet.id, Op.JOB_CANCEL)
        if changes.retries is not None and changes.retries + 1 > MAX_ATTEMPTS:
            raise InvalidInput(f"at most {MAX_ATTEMPTS - 1} retries", field="numberOfRetries")
        if fleet.status is not FleetStatus.IN_PROGRESS or not await self.store.fleet_update(
            principal.tenant_id, fleet.id, changes
        ):
            raise InvalidInput(
                f"job {name} is {fleet.status.value.upper()}: only a job in progress may be "
                "updated",
                field="jobId",
            )
        return await self.get(principal, name)

    async def delete(self, principal: Principal, name: str, force: bool) -> None:
        fleet = await self.get(principal, name)
        await may_change(self.store, principal, fleet.id, Op.JOB_CANCEL)
        if fleet.status is FleetStatus.IN_PROGRESS and not force:
            raise Conflict(
                f"job {name} is in progress: cancel it first, or delete with force",
                reason="invalid_transition",
            )
        await self.store.fleet_delete(principal.tenant_id, fleet.id)

    async def executions(
        self, principal: Principal, name: str, status: ES | None, limit: int
    ) -> list[ThingExecution]:
        fleet = await self.get(principal, name)
        return await self.store.thing_executions(
            principal.tenant_id,
            "",
            fleet_id=fleet.id,
            statuses=[status] if status else None,
            limit=limit,
        )
