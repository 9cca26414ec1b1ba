"""The Store protocol: what the service layer may ask of storage, at the level of job operations.

Every method is scoped to one tenant (except the few that manage tenants and keys by their
global lookup), and every state change is one conditional write: a miss is reported, never
silently overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from jobyard.domain.basiq_users import BasiqProfile, BasiqUser
from jobyard.domain.entities import (
    ApiKey,
    ClaimedExecution,
    ClaimRequest,
    Execution,
    ExecutionUpdate,
    Job,
    KillOrder,
    LogEntry,
    NewJob,
    NewLogEntry,
    NewRecordError,
    RecordError,
    Tenant,
    UpdateOutcome,
)
from jobyard.domain.exclusive import ExclusiveOutcome, ExclusiveRule
from jobyard.domain.families import FamilyJob
from jobyard.domain.filters import JobFilter
from jobyard.domain.states import ExecutionStatus
from jobyard.domain.things import (
    FleetChanges,
    FleetJob,
    FleetStatus,
    NewFleetJob,
    Thing,
    ThingChanges,
    ThingExecution,
    ThingGroup,
)


class SweepResult:
    """What one sweep did, for metrics, for waking claimers and for those who follow the
    executions that end (`ended`: every execution the sweep ended, timed out or canceled)."""

    __slots__ = ("ended", "requeued", "scheduled_due", "timed_out")

    def __init__(self) -> None:
        self.timed_out = 0
        self.requeued: set[tuple[str, str]] = set()  # (tenant_id, queue) with new work
        self.scheduled_due = 0
        self.ended: list[Execution] = []


class Store(Protocol):
    dialect: str

    async def upgrade(self) -> None:
        """Bring the schema to the newest migration."""

    async def close(self) -> None: ...

    async def now(self) -> datetime:
        """The database's clock: every deadline is measured against it."""

    # tenants and keys
    async def tenant_create(self, name: str) -> Tenant:
        """Raises Conflict when the name is taken (also by a concurrent create)."""

    async def tenant_list(self) -> list[Tenant]: ...
    async def tenant_get(self, tenant_id: str) -> Tenant | None: ...
    async def key_insert(self, key: ApiKey) -> None: ...
    async def key_get_by_prefix(self, prefix: str) -> ApiKey | None: ...
    async def key_list(self, tenant_id: str) -> list[ApiKey]: ...
    async def key_revoke(self, tenant_id: str, key_id: str) -> ApiKey | None: ...
    async def key_get(self, tenant_id: str, key_id: str) -> ApiKey | None: ...
    async def key_expire(self, tenant_id: str, key_id: str, at: datetime) -> ApiKey | None:
        """Bring a live key's expiry forward to `at` (never later); None if unknown or revoked."""

    async def sealed_secrets(self) -> list[str]:
        """A sample of the sealed secrets kept (the newest of each kind), to check the server
        key against at start."""

    async def key_count(self) -> int: ...

    # jobs
    async def job_insert_many(
        self, tenant_id: str, owner: str | None, jobs: list[tuple[NewJob, str | None]]
    ) -> list[tuple[Job, bool]]:
        """Insert jobs in one transaction. Each comes with its request hash (for idempotency).

        Answers each job with True when it was created, False when an earlier job with the same
        idempotency key and hash was found. A key seen with another hash raises IdempotencyConflict.
        """

    async def job_insert_exclusive(
        self, tenant_id: str, owner: str | None, new: NewJob, rule: ExclusiveRule
    ) -> ExclusiveOutcome:
        """Insert `new` unless a job of its kind is active (then answer that one) or the rule's
        quota is spent (then answer no job), all decided in one write transaction."""

    async def job_get(self, tenant_id: str, job_id: str) -> Job | None: ...
    async def job_list(self, tenant_id: str, flt: JobFilter) -> list[Job]: ...
    async def job_list_family_totals(
        self,
        tenant_id: str,
        flt: JobFilter,
        *,
        top_level_only: bool = False,
        excluded_types: Sequence[str] = (),
    ) -> list[FamilyJob]:
        """Jobs as `job_list` finds them, each with its own counters plus its direct children's;
        the counter bounds of `flt` apply to those totals. `top_level_only` keeps the jobs
        without a parent; `excluded_types` leaves those types out."""

    async def job_cancel(
        self,
        tenant_id: str,
        job_id: str,
        order: KillOrder,
        *,
        expected_version: int | None = None,
    ) -> Job:
        """Cancel a queued job at once, register a kill order on a running one (or, with
        `force`, cancel its execution at once). Raises Conflict on a terminal job. With
        `expected_version`, every write is also conditional on the job's latest execution
        having that version; a miss raises Conflict (reason `version_mismatch`)."""

    async def job_retry(self, tenant_id: str, job_id: str) -> Job:
        """Queue a new execution for a failed, timed-out or canceled job."""

    async def job_set_collaborators(
        self, tenant_id: str, job_id: str, collaborators: list[str]
    ) -> Job | None:
        """Replace a job's collaborators; None when the tenant has no such job."""

    # executions
    async def execution_list(self, tenant_id: str, job_id: str) -> list[Execution]: ...
    async def execution_kill_orders(self, tenant_id: str, worker_id: str) -> list[tuple[str, int]]:
        """The running executions a worker holds whose jobs have a kill order waiting."""

    async def execution_claim(
        self, tenant_id: str, req: ClaimRequest
    ) -> list[ClaimedExecution]: ...
    async def execution_claim_with_kills(
        self, tenant_id: str, req: ClaimRequest
    ) -> tuple[list[ClaimedExecution], list[tuple[str, int]]]:
        """A claim, and the kill orders waiting for its worker (`req.worker.id`; none without
        one), read together: in one trip to the database where the backend can."""

    async def execution_update_many(
        self, tenant_id: str, updates: list[ExecutionUpdate]
    ) -> list[UpdateOutcome]:
        """Apply worker updates, each judged on its own, in one transaction."""

    async def sweep(self) -> SweepResult:
        """Time out expired leases and in-progress timeouts, and release due scheduled jobs."""

    # following a job: logs, record errors, URL signing keys
    async def log_append(
        self,
        tenant_id: str,
        job_id: str,
        execution_number: int,
        entries: Sequence[NewLogEntry],
        worker_id: str | None = None,
        holder: str | None = None,
    ) -> tuple[int, int] | None: ...

    async def log_list(
        self,
        tenant_id: str,
        job_id: str,
        *,
        after: int | None,
        limit: int,
        execution_number: int | None = None,
    ) -> list[LogEntry]: ...

    async def log_trim(
        self, tenant_id: str, job_id: str, execution_number: int, keep: int, marker: str
    ) -> int: ...

    async def record_error_append(
        self,
        tenant_id: str,
        job_id: str,
        execution_number: int,
        errors: Sequence[NewRecordError],
        worker_id: str | None = None,
        holder: str | None = None,
    ) -> int | None: ...

    async def record_error_list(
        self,
        tenant_id: str,
        job_id: str,
        *,
        after_id: str | None,
        limit: int,
        resolved: bool | None = None,
    ) -> list[RecordError]: ...

    async def record_error_resolve(
        self, tenant_id: str, job_id: str, ids: Sequence[str] | None
    ) -> int: ...

    async def signing_key_get(
        self, tenant_id: str, key_id: str | None = None
    ) -> tuple[str, str] | None:
        """The live URL-signing key `key_id`, or the tenant's newest live one, as (id, sealed
        secret); None when there is none."""

    async def signing_key_add(
        self, tenant_id: str, key_id: str, secret: str, *, retire_others: bool = False
    ) -> int:
        """Keep a signing key whose secret the service sealed; with `retire_others`, retire the
        tenant's other live keys at once (answers how many)."""

    # things, thing groups and fleet jobs (the AWS IoT registry) -----------------------------
    async def thing_create(
        self, tenant_id: str, name: str, thing_type: str | None, attributes: dict[str, str]
    ) -> Thing:
        """Raises Conflict when the tenant has a thing of that name."""

    async def thing_get(self, tenant_id: str, name: str) -> Thing | None: ...
    async def thing_list(self, tenant_id: str, after: str | None, limit: int) -> list[Thing]: ...
    async def thing_update(self, tenant_id: str, name: str, changes: ThingChanges) -> Thing | None:
        """One conditional write; None when the tenant has no such thing, Conflict (reason
        `version_mismatch`) when `changes.expected_version` is not the current version."""

    async def thing_delete(
        self, tenant_id: str, name: str, expected_version: int | None
    ) -> list[Execution]:
        """Delete the thing and its memberships, ending its queued fleet executions `removed`
        (answered); nothing for a thing the tenant does not have; Conflict on a version."""

    async def thing_group_create(
        self, tenant_id: str, name: str, description: str | None, attributes: dict[str, str]
    ) -> ThingGroup:
        """Raises Conflict when the tenant has a group of that name."""

    async def thing_group_get(self, tenant_id: str, name: str) -> ThingGroup | None: ...
    async def thing_group_add(
        self,
        tenant_id: str,
        group: ThingGroup,
        thing: Thing,
        children: Sequence[tuple[str, NewJob]] = (),
    ) -> int:
        """Make the thing a member and, at once, add each (fleet job id, child) to a fleet job
        still in progress that has no child for it yet; answers how many were added."""

    async def thing_group_remove(self, tenant_id: str, group: ThingGroup, thing: Thing) -> bool:
        """False when the thing was not a member."""

    async def thing_group_delete(
        self, tenant_id: str, name: str, expected_version: int | None
    ) -> bool:
        """Delete the group and its memberships; False when the tenant has no such group;
        Conflict (reason `version_mismatch`) on a version expected that is not the current."""

    async def thing_group_members(
        self, tenant_id: str, group: ThingGroup, after: str | None, limit: int
    ) -> list[str]: ...

    async def fleet_insert(
        self,
        tenant_id: str,
        owner: str | None,
        new: NewFleetJob,
        parent: NewJob,
        children: list[NewJob],
    ) -> FleetJob:
        """Parent, children and fleet row in one transaction; Conflict on a name taken."""

    async def fleet_get(self, tenant_id: str, name: str) -> FleetJob | None: ...
    async def fleet_names_of(self, tenant_id: str, job_ids: Sequence[str]) -> list[str]:
        """The names of the fleet jobs some of these jobs are children of."""

    async def fleet_list(
        self, tenant_id: str, status: FleetStatus | None, after: str | None, limit: int
    ) -> list[FleetJob]: ...
    async def fleet_counts(self, tenant_id: str, fleet_id: str) -> dict[ExecutionStatus, int]: ...
    async def fleet_continuous(self, tenant_id: str) -> list[FleetJob]:
        """The tenant's continuous fleet jobs in progress."""

    async def fleet_set_status(
        self,
        tenant_id: str,
        fleet_id: str,
        status: FleetStatus,
        *,
        force: bool | None = None,
        reason_code: str | None = None,
        comment: str | None = None,
    ) -> bool:
        """Move an in-progress fleet job (and its parent job) to `status`; False if it was not
        in progress any more."""

    async def fleet_delete(self, tenant_id: str, fleet_id: str) -> None: ...
    async def fleet_update(self, tenant_id: str, fleet_id: str, changes: FleetChanges) -> bool:
        """Change an in-progress fleet job's settings, carried to the children they still
        concern; False when it was not in progress any more."""

    async def fleet_execution_delete(
        self, tenant_id: str, job_id: str, execution_number: int, force: bool
    ) -> Execution:
        """Delete one execution of a fleet job's child (the child with it when it is the
        latest): ended ones, or any with `force`. NotFound, or Conflict when it may not be."""

    async def thing_executions(
        self,
        tenant_id: str,
        thing: str,
        *,
        job_name: str | None = None,
        fleet_id: str | None = None,
        statuses: list[ExecutionStatus] | None = None,
        latest_only: bool = True,
        execution_number: int | None = None,
        limit: int = 1000,
    ) -> list[ThingExecution]:
        """The executions run for a thing (or every thing of a fleet job), oldest first."""

    # users of the Basiq face -----------------------------------------------------------------
    async def basiq_user_create(self, tenant_id: str, profile: BasiqProfile) -> BasiqUser: ...
    async def basiq_user_get(self, tenant_id: str, user_id: str) -> BasiqUser | None: ...
    async def basiq_user_update(
        self, tenant_id: str, user_id: str, changes: Mapping[str, str | None]
    ) -> BasiqUser | None:
        """Set the named profile fields in one conditional write; None when the tenant has no
        such user, or when the change would leave it with neither an email nor a mobile."""

    async def basiq_user_delete(self, tenant_id: str, user_id: str) -> bool:
        """Remove the user; False when the tenant has no such user."""
