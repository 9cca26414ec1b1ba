"""A thing's jobs: what a device pulls and reports (pending, start next, describe, update), and
what an operator reads or cancels of one thing's executions.

A thing's executions are those whose `target` is its name, on any queue (a key limited to
queues pulls from those only; a key limited to things acts for those only). A job is named by
its fleet job's name, or by its own id for a job made for one thing.
"""

from __future__ import annotations

from dataclasses import dataclass

from jobyard.domain.entities import ClaimRequest, ExecutionUpdate, KillOrder
from jobyard.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from jobyard.domain.states import TERMINAL_EXECUTION, ExecutionStatus
from jobyard.domain.things import ThingExecution
from jobyard.service.auth import Principal
from jobyard.service.executions import MAX_LEASE_S, ExecutionService
from jobyard.service.fleet_jobs import FleetJobService
from jobyard.service.ownership import may_change
from jobyard.service.permissions import Op
from jobyard.store.protocol import Store

ES = ExecutionStatus
NEXT = "$next"
PENDING = [ES.QUEUED, ES.IN_PROGRESS]
# What a device may report (a queued execution may be reported on directly: it starts it).
DEVICE_REPORTABLE = frozenset({ES.IN_PROGRESS, ES.SUCCEEDED, ES.FAILED, ES.REJECTED})
NO_STEP_TIMEOUT_S = MAX_LEASE_S  # without a step timeout, an execution is held this long
MAX_STEP_MINUTES = MAX_LEASE_S // 60


@dataclass(slots=True)
class Report:
    """A device's update of one execution."""

    status: ES
    status_details: dict[str, str] | None = None
    expected_version: int | None = None
    step_timeout_minutes: int | None = None
    execution_number: int | None = None


def _lease(step_timeout_minutes: int | None) -> int | None:
    if step_timeout_minutes is None:
        return None
    if not 1 <= step_timeout_minutes <= MAX_STEP_MINUTES:
        raise InvalidInput(
            f"stepTimeoutInMinutes must be between 1 and {MAX_STEP_MINUTES}",
            field="stepTimeoutInMinutes",
        )
    return step_timeout_minutes * 60


class ThingJobService:
    def __init__(self, store: Store, executions: ExecutionService, fleets: FleetJobService):
        self.store = store
        self.executions = executions
        self.fleets = fleets

    @staticmethod
    def _acts_for(principal: Principal, thing: str) -> None:
        if principal.things is not None and thing not in principal.things:
            raise Forbidden(f"this key may not act for thing {thing}")

    def _device(self, principal: Principal, thing: str) -> None:
        principal.require(Op.EXECUTION_CLAIM)
        self._acts_for(principal, thing)

    async def pending(
        self, principal: Principal, thing: str
    ) -> tuple[list[ThingExecution], list[ThingExecution]]:
        """The thing's in-progress and queued executions (queued: those already released)."""
        self._device(principal, thing)
        found = await self.store.thing_executions(principal.tenant_id, thing, statuses=PENDING)
        now = await self.store.now()
        running = [te for te in found if te.execution.status is ES.IN_PROGRESS]
        queued = [
            te
            for te in found
            if te.execution.status is ES.QUEUED and te.execution.available_at <= now
        ]
        return running, queued

    async def _claim(
        self,
        principal: Principal,
        thing: str,
        lease_s: int | None,
        details: dict[str, str] | None,
        job_id: str | None = None,
        expected_version: int | None = None,
    ) -> ThingExecution | None:
        req = ClaimRequest(
            queues=list(principal.queues or []),
            all_queues=principal.queues is None,
            targets=[thing],
            job_ids=[job_id] if job_id else None,
            max=1,
            lease_s=lease_s or NO_STEP_TIMEOUT_S,
            holder=principal.owner,
            status_details=details,
            expected_version=expected_version,
        )
        claimed = await self.store.execution_claim(principal.tenant_id, req)
        if not claimed:
            return None
        ex = claimed[0].execution
        found = await self.store.thing_executions(
            principal.tenant_id, thing, job_name=ex.job_id, execution_number=ex.execution_number
        )
        return found[0] if found else None

    async def start_next(
        self,
        principal: Principal,
        thing: str,
        details: dict[str, str] | None,
        step_timeout_minutes: int | None,
    ) -> ThingExecution | None:
        """The thing's execution in progress, or else its next queued one, started now."""
        self._device(principal, thing)
        lease_s = _lease(step_timeout_minutes)
        running, _ = await self.pending(principal, thing)
        if running:
            return running[0]
        return await self._claim(principal, thing, lease_s, details)

    async def describe(
        self,
        principal: Principal,
        thing: str,
        job_name: str,
        execution_number: int | None = None,
        *,
        device: bool = True,
    ) -> ThingExecution:
        if device:
            self._device(principal, thing)
        else:
            principal.require(Op.JOB_READ)
        if job_name == NEXT:
            running, queued = await self.pending(principal, thing)
            if running or queued:
                return (running or queued)[0]
            raise NotFound(f"thing {thing} has no pending job execution")
        found = await self.store.thing_executions(
            principal.tenant_id, thing, job_name=job_name, execution_number=execution_number
        )
        if not found:
            raise NotFound(f"no execution of job {job_name} on thing {thing}")
        return found[-1]

    async def update(
        self, principal: Principal, thing: str, job_name: str, report: Report
    ) -> ThingExecution:
        """Apply a device's report. A queued execution reported on is started first (so a
        device may go from queued straight to an outcome): two writes, each conditional (the
        start on the version the device expects, if it names one); a failure between them
        leaves the execution in progress, its lease running out (see docs/faces/iot.md). An
        outcome reaches the fleet job through the execution service's listeners of ended
        executions."""
        self._device(principal, thing)
        if report.status not in DEVICE_REPORTABLE:
            raise Conflict(
                f"a device may not report {report.status.value.upper()}",
                reason="invalid_transition",
            )
        lease_s = _lease(report.step_timeout_minutes)
        te = await self.describe(principal, thing, job_name, report.execution_number)
        ex = te.execution
        expected = report.expected_version
        if ex.status is ES.QUEUED:
            started = await self._claim(
                principal, thing, lease_s, report.status_details, ex.job_id, expected
            )
            if started is None:
                await self._not_started(principal, thing, te, expected)
                raise Conflict("the execution cannot start now", reason="invalid_transition")
            if report.status is ES.IN_PROGRESS:
                return started
            te, ex, expected = started, started.execution, started.execution.version
        outcome = await self.executions.update(
            principal,
            ExecutionUpdate(
                job_id=ex.job_id,
                execution_number=ex.execution_number,
                status=report.status,
                expected_version=expected,
                status_details=report.status_details,
                lease_s=lease_s,
            ),
        )
        assert outcome.execution is not None
        te.execution = outcome.execution
        return te

    async def _not_started(
        self, principal: Principal, thing: str, te: ThingExecution, expected: int | None
    ) -> None:
        """Say why a start missed: raises when the execution moved on from the version the
        device expected, or ended meanwhile (it is read again, after the write that missed)."""
        ex = te.execution
        found = await self.store.thing_executions(
            principal.tenant_id, thing, job_name=te.job_name, execution_number=ex.execution_number
        )
        if not found:
            raise NotFound(f"no execution of job {te.job_name} on thing {thing}")
        current = found[-1].execution
        if expected is not None and current.version != expected:
            raise Conflict(
                f"version mismatch: expected {expected}, current {current.version}",
                reason="version_mismatch",
                execution=current,
            )
        if current.status in TERMINAL_EXECUTION:
            raise Conflict(f"execution is already {current.status.value}", reason="terminal_state")

    async def history(
        self, principal: Principal, thing: str, status: ES | None, job_name: str | None, limit: int
    ) -> list[ThingExecution]:
        """An operator's view: the thing's executions (the latest of each job)."""
        principal.require(Op.JOB_READ)
        return await self.store.thing_executions(
            principal.tenant_id,
            thing,
            job_name=job_name,
            statuses=[status] if status else None,
            limit=limit,
        )

    async def cancel(
        self,
        principal: Principal,
        thing: str,
        job_name: str,
        force: bool,
        expected_version: int | None,
    ) -> None:
        """Cancel one thing's execution: a queued one at once; one in progress only with
        `force`; an ended one not at all. `expected_version` is a condition of the write."""
        te = await self.describe(principal, thing, job_name, device=False)
        ex = te.execution
        await may_change(self.store, principal, ex.job_id, Op.JOB_CANCEL)
        if ex.status in TERMINAL_EXECUTION or (ex.status is ES.IN_PROGRESS and not force):
            raise Conflict(
                f"an execution {ex.status.value.upper()} cannot be canceled"
                + ("" if force else " without force"),
                reason="invalid_transition",
            )
        now = await self.store.now()
        order = KillOrder(now, principal.key_id, force, "canceled for this thing")
        await self.store.job_cancel(
            principal.tenant_id, ex.job_id, order, expected_version=expected_version
        )
        if te.fleet_id is not None:
            await self.fleets.execution_ended(principal, te.job_name)

    async def delete(
        self,
        principal: Principal,
        thing: str,
        job_name: str,
        execution_number: int,
        force: bool,
    ) -> None:
        """Delete one execution of a fleet job on the thing: an ended one, or with `force` one
        in any status (its device can no longer report on it). Deleting the latest takes the
        thing out of the job's counts, judged at once."""
        te = await self.describe(principal, thing, job_name, execution_number, device=False)
        if te.fleet_id is None:
            raise InvalidInput(
                f"job {job_name} was made for one thing through the native API: it is not a "
                "fleet job, and its executions are kept there",
                field="jobId",
            )
        ex = te.execution
        await may_change(self.store, principal, ex.job_id, Op.JOB_CANCEL)
        await self.store.fleet_execution_delete(
            principal.tenant_id, ex.job_id, execution_number, force
        )
        await self.fleets.execution_ended(principal, te.job_name)
