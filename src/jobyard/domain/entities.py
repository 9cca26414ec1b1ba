"""Entities: plain data that every layer passes around.

The store fills them; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jobyard.domain.states import ExecutionStatus, JobStatus

JSON = dict[str, Any]

COUNTERS: tuple[str, ...] = ("num_success", "num_error", "num_ignore", "num_export", "num_pages")


@dataclass(slots=True)
class KillOrder:
    """A request to stop a running job, delivered to the worker holding its lease."""

    requested_at: datetime
    requested_by: str | None
    force: bool
    reason: str | None


@dataclass(slots=True)
class Execution:
    """One run of a job for one target; a retry is a new execution with the next number."""

    tenant_id: str
    job_id: str
    execution_number: int
    status: ExecutionStatus
    version: int
    queue: str
    type: str
    priority: int
    queued_at: datetime
    available_at: datetime
    last_updated_at: datetime
    status_details: dict[str, str] = field(default_factory=dict)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    lease_expires_at: datetime | None = None
    lease_s: int | None = None
    worker_id: str | None = None
    hostname: str | None = None
    pid: int | None = None
    exit_code: int | None = None
    target: str | None = None


@dataclass(slots=True)
class Job:
    """A unit of work and everything known about how it went."""

    id: str
    tenant_id: str
    type: str
    queue: str
    priority: int
    status: JobStatus
    created_at: datetime
    updated_at: datetime
    params: JSON = field(default_factory=dict)
    document: JSON | None = None
    labels: dict[str, str] = field(default_factory=dict)
    parent_id: str | None = None
    owner: str | None = None
    collaborators: list[str] = field(default_factory=list)
    scheduled_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    max_attempts: int = 3
    backoff_base_s: float = 1.0
    backoff_max_s: float = 300.0
    timeout_s: int | None = None
    lease_s: int | None = None
    idempotency_key: str | None = None
    targets: list[str] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    progress: JSON | None = None
    steps: list[JSON] = field(default_factory=list)
    result: JSON | None = None
    error: JSON | None = None
    attempts: int = 0
    kill_order: KillOrder | None = None
    latest_execution: Execution | None = None


@dataclass(slots=True)
class NewJob:
    """What a client asks for to create a job; the service fills defaults, the store ids."""

    type: str
    queue: str = "default"
    priority: int = 0
    params: JSON = field(default_factory=dict)
    document: JSON | None = None
    labels: dict[str, str] = field(default_factory=dict)
    parent_id: str | None = None
    scheduled_at: datetime | None = None
    max_attempts: int = 3
    backoff_base_s: float = 1.0
    backoff_max_s: float = 300.0
    timeout_s: int | None = None
    lease_s: int | None = None
    idempotency_key: str | None = None
    targets: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    collaborators: list[str] = field(default_factory=list)


@dataclass(slots=True)
class WorkerIdentity:
    id: str | None = None
    hostname: str | None = None
    pid: int | None = None


@dataclass(slots=True)
class ClaimRequest:
    queues: list[str]
    types: list[str] | None = None
    max: int = 1
    lease_s: int = 30
    worker: WorkerIdentity = field(default_factory=WorkerIdentity)
    holder: str | None = None  # the claiming key's subject; a worker key writes only its own
    targets: list[str] | None = None  # a device key claims only executions for its things
    all_queues: bool = False  # claim from any queue (`queues` is then ignored): a thing's pull
    job_ids: list[str] | None = None  # only executions of these jobs
    status_details: dict[str, str] | None = None  # written onto what is claimed
    expected_version: int | None = None  # claim only an execution still at this version

    def lease_terms(self) -> tuple[int, int, str | None, str | None, str | None, int | None]:
        """How many, and what the claim writes onto each execution it leases, in the order the
        stores' claim statements take them: max, lease_s, worker id, holder, hostname, pid."""
        w = self.worker
        return (self.max, self.lease_s, w.id, self.holder, w.hostname, w.pid)


@dataclass(slots=True)
class ClaimedExecution:
    """An execution handed to a worker, with what it needs to run the job."""

    execution: Execution
    job_type: str
    params: JSON
    document: JSON | None


@dataclass(slots=True)
class ExecutionUpdate:
    """A worker's report on an execution it holds; every field but the address is optional."""

    job_id: str
    execution_number: int
    status: ExecutionStatus | None = None
    expected_version: int | None = None
    status_details: dict[str, str] | None = None
    result: JSON | None = None
    error: JSON | None = None
    exit_code: int | None = None
    lease_s: int | None = None
    worker_id: str | None = None
    holder: str | None = None  # set for worker keys: only executions their subject claimed
    steps: list[JSON] | None = None  # each {"name", "status", "result"?, "error"?}
    progress: JSON | None = None  # {"current", "total", "message"}
    counters: dict[str, int] | None = None  # increments, e.g. {"num_success": 10}
    pid: int | None = None  # the process running it, when not the worker's own (a command)
    hostname: str | None = None
    # Output written with the update, in its transaction, only when the update applies.
    logs: Sequence[NewLogEntry] | None = None  # a `CheckedLines` when read straight
    record_errors: list[NewRecordError] | None = None

    def follows(self) -> bool:
        """True when it reports steps, progress or counters (written to the job row)."""
        return self.steps is not None or self.progress is not None or bool(self.counters)


@dataclass(slots=True)
class UpdateOutcome:
    """What became of one update: the execution after it, or the current state and why not."""

    execution: Execution | None
    applied: bool
    cancel_requested: bool = False
    error_code: str | None = None
    message: str | None = None
    log_lines: int | None = None  # the execution's lines in all, when the update wrote some


@dataclass(slots=True)
class Tenant:
    id: str
    name: str
    created_at: datetime


@dataclass(slots=True)
class ApiKey:
    """An API key as stored: never the secret itself, only its hash."""

    id: str
    tenant_id: str
    name: str
    role: str
    created_at: datetime
    prefix: str
    secret_hash: str
    revoked_at: datetime | None = None
    expires_at: datetime | None = None
    is_system: bool = False
    queues: list[str] | None = None
    type: str = "api"  # or "aws-sigv4"
    subject: str | None = None  # whom it speaks for; None: the key itself (its id)
    things: list[str] | None = None
    secret_enc: str | None = None  # aws-sigv4 only: the secret, encrypted at rest

    @property
    def owner(self) -> str:
        """The name jobs made with this key are owned by; a rotated key keeps it."""
        return self.subject or self.id


@dataclass(slots=True)
class NewLogEntry:
    """A log line as a worker sends it; the server gives it its `seq`."""

    source: str
    data: str
    ts: datetime | None = None


@dataclass(slots=True)
class LogEntry:
    seq: int
    execution_number: int
    ts: datetime
    source: str
    data: str


@dataclass(slots=True)
class NewRecordError:
    """One record a worker could not process, with the record itself."""

    message: str
    code: str | None = None
    source: str | None = None
    data: Any = None
    retriable: bool = False


@dataclass(slots=True)
class RecordError:
    id: str
    job_id: str
    execution_number: int
    message: str
    code: str | None
    source: str | None
    data: Any
    retriable: bool
    created_at: datetime
    resolved_at: datetime | None = None
