"""Things, thing groups and fleet jobs: the device registry a fleet job targets.

A fleet job is one parent job with one child job per thing; each child's executions are that
thing's executions. The parent runs nothing itself: its status is derived from its children
(in_progress until every child has ended, then completed; canceled when canceled).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from jobyard.domain.entities import Execution
from jobyard.domain.errors import InvalidInput
from jobyard.domain.states import ExecutionStatus


@dataclass(slots=True)
class Thing:
    id: str
    tenant_id: str
    name: str
    attributes: dict[str, str]
    version: int
    created_at: datetime
    thing_type: str | None = None


@dataclass(slots=True)
class ThingGroup:
    id: str
    tenant_id: str
    name: str
    attributes: dict[str, str]
    version: int
    created_at: datetime
    description: str | None = None


class FleetStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    CANCELED = "canceled"
    COMPLETED = "completed"


class FailureType(StrEnum):
    FAILED = "FAILED"
    REJECTED = "REJECTED"
    TIMED_OUT = "TIMED_OUT"
    ALL = "ALL"


FAILURES: dict[FailureType, frozenset[ExecutionStatus]] = {
    FailureType.FAILED: frozenset({ExecutionStatus.FAILED}),
    FailureType.REJECTED: frozenset({ExecutionStatus.REJECTED}),
    FailureType.TIMED_OUT: frozenset({ExecutionStatus.TIMED_OUT}),
    FailureType.ALL: frozenset(
        {ExecutionStatus.FAILED, ExecutionStatus.REJECTED, ExecutionStatus.TIMED_OUT}
    ),
}

# Things that have run the job to an end of their own (the base of an abort threshold).
EXECUTED: frozenset[ExecutionStatus] = frozenset(
    {
        ExecutionStatus.SUCCEEDED,
        ExecutionStatus.FAILED,
        ExecutionStatus.REJECTED,
        ExecutionStatus.TIMED_OUT,
    }
)


@dataclass(slots=True)
class AbortCriterion:
    failure_type: FailureType
    threshold_percentage: float
    min_executed: int

    def reached(self, counts: dict[ExecutionStatus, int]) -> bool:
        """True when, over at least `min_executed` things that ran, the share of failures of
        this type passes the threshold."""
        executed = sum(counts.get(s, 0) for s in EXECUTED)
        if executed == 0 or executed < self.min_executed:
            return False
        failed = sum(counts.get(s, 0) for s in FAILURES[self.failure_type])
        return failed * 100.0 / executed >= self.threshold_percentage


@dataclass(slots=True)
class NewFleetJob:
    name: str
    things: list[str]  # resolved, unique, in order
    targets: list[str]  # as given (thing or group ARNs)
    document: dict[str, Any] | None
    description: str | None = None
    timeout_minutes: int | None = None
    rollout_per_minute: int | None = None
    abort: list[AbortCriterion] = field(default_factory=list)
    retries: int = 0  # extra attempts for a failed or timed-out execution
    retry_criteria: list[dict[str, Any]] = field(default_factory=list)
    continuous: bool = False  # things that join a target group later get the job too


@dataclass(slots=True)
class FleetJob:
    id: str  # the parent job's id
    tenant_id: str
    name: str
    status: FleetStatus
    targets: list[str]
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    rollout_per_minute: int | None = None
    abort: list[AbortCriterion] = field(default_factory=list)
    retry_criteria: list[dict[str, Any]] = field(default_factory=list)
    timeout_minutes: int | None = None
    force_canceled: bool | None = None
    reason_code: str | None = None
    comment: str | None = None
    completed_at: datetime | None = None
    document: dict[str, Any] | None = None
    continuous: bool = False
    counts: dict[ExecutionStatus, int] = field(default_factory=dict)

    @property
    def retries(self) -> int:
        """Extra attempts: the most retries any criterion asks for."""
        return max((int(c.get("numberOfRetries", 0)) for c in self.retry_criteria), default=0)


@dataclass(slots=True)
class ThingChanges:
    """An update of a thing: its attributes (replaced, or merged into the current ones, where
    an empty value removes a name) and its type; `expected_version` a condition of the write."""

    attributes: dict[str, str] | None = None
    merge: bool = False
    thing_type: str | None = None
    remove_thing_type: bool = False
    expected_version: int | None = None
    max_attributes: int | None = None

    def apply(self, current: dict[str, str]) -> dict[str, str]:
        """The attributes after the change; InvalidInput when they would be too many."""
        if self.attributes is None:
            return current
        merged = {**current, **self.attributes} if self.merge else dict(self.attributes)
        out = {k: v for k, v in merged.items() if v != ""}
        if self.max_attributes is not None and len(out) > self.max_attributes:
            raise InvalidInput(f"at most {self.max_attributes} attributes", field="attributes")
        return out


@dataclass(slots=True)
class FleetChanges:
    """An update of an in-progress fleet job; None leaves a setting as it is. The rollout rate
    reschedules the children not yet released; the timeout and retries apply to the children
    whose execution has not started (timeout) or not ended (retries)."""

    description: str | None = None
    rollout_per_minute: int | None = None
    abort: list[AbortCriterion] | None = None
    timeout_minutes: int | None = None
    retries: int | None = None
    retry_criteria: list[dict[str, Any]] | None = None


@dataclass(slots=True)
class ThingExecution:
    """An execution as a thing sees it: named by its job's name (a fleet job's name, or the
    job's own id for a job made for one thing)."""

    execution: Execution
    job_name: str
    document: dict[str, Any] | None
    fleet_id: str | None = None
