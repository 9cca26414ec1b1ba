"""Status values and the execution state machine (see docs/state-machine.md).

The transition table is the single source of truth: the store writes a transition only when the
row's current status is one this table allows, in the same conditional UPDATE.
"""

from __future__ import annotations

from enum import StrEnum


class ExecutionStatus(StrEnum):
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    REJECTED = "rejected"
    CANCELED = "canceled"
    REMOVED = "removed"


class JobStatus(StrEnum):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    CANCELING = "canceling"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    REJECTED = "rejected"
    CANCELED = "canceled"
    REMOVED = "removed"
    COMPLETED = "completed"


class Actor(StrEnum):
    """Who asks for a transition: the worker holding the lease, or the server itself."""

    WORKER = "worker"
    SERVER = "server"


TERMINAL_EXECUTION: frozenset[ExecutionStatus] = frozenset(
    {
        ExecutionStatus.SUCCEEDED,
        ExecutionStatus.FAILED,
        ExecutionStatus.TIMED_OUT,
        ExecutionStatus.REJECTED,
        ExecutionStatus.CANCELED,
        ExecutionStatus.REMOVED,
    }
)

TERMINAL_JOB: frozenset[JobStatus] = frozenset(
    {
        JobStatus.SUCCEEDED,
        JobStatus.FAILED,
        JobStatus.TIMED_OUT,
        JobStatus.REJECTED,
        JobStatus.CANCELED,
        JobStatus.REMOVED,
        JobStatus.COMPLETED,
    }
)

# Statuses that are retried as a new execution while attempts remain.
RETRIABLE: frozenset[ExecutionStatus] = frozenset(
    {ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT}
)

# Statuses a job may be retried from on request (POST /v1/jobs/{id}/retry).
MANUALLY_RETRIABLE: frozenset[JobStatus] = frozenset(
    {JobStatus.FAILED, JobStatus.TIMED_OUT, JobStatus.CANCELED}
)

_ES = ExecutionStatus
TRANSITIONS: dict[tuple[ExecutionStatus, Actor], frozenset[ExecutionStatus]] = {
    (_ES.QUEUED, Actor.SERVER): frozenset({_ES.IN_PROGRESS, _ES.CANCELED, _ES.REMOVED}),
    (_ES.QUEUED, Actor.WORKER): frozenset(),
    # queued: the holder hands back an execution it has not started (a worker that stops).
    (_ES.IN_PROGRESS, Actor.WORKER): frozenset(
        {_ES.QUEUED, _ES.IN_PROGRESS, _ES.SUCCEEDED, _ES.FAILED, _ES.REJECTED, _ES.CANCELED}
    ),
    (_ES.IN_PROGRESS, Actor.SERVER): frozenset({_ES.TIMED_OUT, _ES.CANCELED}),
}

WORKER_REPORTABLE: frozenset[ExecutionStatus] = TRANSITIONS[(_ES.IN_PROGRESS, Actor.WORKER)]


def can_transition(current: ExecutionStatus, target: ExecutionStatus, actor: Actor) -> bool:
    """True when `actor` may move an execution from `current` to `target`."""
    return target in TRANSITIONS.get((current, actor), frozenset())


def sources_for(target: ExecutionStatus, actor: Actor) -> frozenset[ExecutionStatus]:
    """The statuses from which `actor` may move an execution to `target`."""
    return frozenset(
        src for (src, who), targets in TRANSITIONS.items() if who is actor and target in targets
    )


def job_status_for(execution: ExecutionStatus) -> JobStatus:
    """A single-target job's status follows its latest execution."""
    return JobStatus(execution.value)
