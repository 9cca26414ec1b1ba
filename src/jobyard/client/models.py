"""Typed shapes of what the server answers and of what a client sends.

Answers ignore fields they do not know, so an older SDK keeps working against a newer server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Execution(_Answer):
    job_id: str
    execution_number: int
    status: str
    version: int
    queue: str
    type: str
    priority: int = 0
    status_details: dict[str, str] = Field(default_factory=dict)
    queued_at: datetime | None = None
    started_at: datetime | None = None
    last_updated_at: datetime | None = None
    completed_at: datetime | None = None
    lease_s: int | None = None
    lease_expires_at: datetime | None = None
    worker_id: str | None = None
    hostname: str | None = None
    pid: int | None = None
    exit_code: int | None = None


class UpdateResult(Execution):
    """An execution after a worker's update; `cancel_requested` says a kill order waits."""

    cancel_requested: bool = False


class KillOrder(_Answer):
    requested_at: datetime
    requested_by: str | None = None
    force: bool = False
    reason: str | None = None


class Job(_Answer):
    id: str
    type: str
    queue: str
    priority: int = 0
    status: str
    params: dict[str, Any] = Field(default_factory=dict)
    document: dict[str, Any] | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    parent_id: str | None = None
    owner: str | None = None
    collaborators: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    scheduled_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    max_attempts: int = 3
    timeout_s: int | None = None
    lease_s: int | None = None
    idempotency_key: str | None = None
    num_success: int = 0
    num_error: int = 0
    num_ignore: int = 0
    num_export: int = 0
    num_pages: int = 0
    progress: dict[str, Any] | None = None
    steps: list[dict[str, Any]] = Field(default_factory=list)
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    attempts: int = 0
    cancel_requested: bool = False
    kill_order: KillOrder | None = None
    latest_execution: Execution | None = None


class ClaimedExecution(_Answer):
    """An execution leased to this worker, with what it needs to run the job."""

    job_id: str
    execution_number: int
    type: str
    queue: str
    priority: int = 0
    params: dict[str, Any] = Field(default_factory=dict)
    document: dict[str, Any] | None = None
    version: int
    lease_s: int | None = None
    lease_expires_at: datetime | None = None


class ExecutionRef(_Answer):
    job_id: str
    execution_number: int


class ClaimAnswer(_Answer):
    """A claim's whole answer: the executions leased, and the kill orders for the worker."""

    executions: list[ClaimedExecution]
    cancel_requested: list[ExecutionRef] = Field(default_factory=list)


class BatchError(_Answer):
    code: str
    message: str


class BatchResult(_Answer):
    job_id: str
    execution_number: int
    ok: bool
    cancel_requested: bool = False
    execution: Execution | None = None
    error: BatchError | None = None


class Page(_Answer, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class LogEntry(_Answer):
    seq: int
    execution_number: int
    ts: datetime
    source: str
    data: str


class LogPage(_Answer):
    entries: list[LogEntry]
    last_seq: int | None = None


class RecordError(_Answer):
    id: str
    job_id: str
    execution_number: int
    code: str | None = None
    message: str
    source: str | None = None
    data: Any = None
    retriable: bool = False
    resolved: bool = False
    created_at: datetime
    resolved_at: datetime | None = None


class FileUrl(_Answer):
    url: str
    expires_at: datetime


class PrimaryError(_Answer):
    code: str | None = None
    message: str | None = None
    details: Any = None
    at: datetime | None = None


class ApiKey(_Answer):
    id: str
    name: str
    role: str
    type: str = "api"  # or "aws-sigv4"
    prefix: str
    access_key_id: str | None = None  # aws-sigv4 keys
    subject: str | None = None  # whom the key speaks for; a rotated key keeps it
    queues: list[str] | None = None
    things: list[str] | None = None
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


class CreatedKey(ApiKey):
    """A new key with its secret, shown this once."""

    key: str | None = None  # api keys
    secret_access_key: str | None = None  # aws-sigv4 keys


class RotatedKey(CreatedKey):
    old_key: ApiKey  # the key it replaces, as it is now


class SigningKeyRotation(_Answer):
    id: str
    retired: int


class Tenant(_Answer):
    id: str
    name: str
    created_at: datetime


class CreatedTenant(Tenant):
    admin_key: str


class Me(_Answer):
    """The calling key, as the server knows it."""

    tenant_id: str
    key_id: str
    role: str
    subject: str
    system: bool
    queues: list[str] | None = None
    things: list[str] | None = None


# What a client sends --------------------------------------------------------------------------
class _Send(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class JobSpec(_Send):
    """A job to create. Only `type` is required."""

    type: str
    queue: str | None = None
    priority: int | None = None
    params: dict[str, Any] | None = None
    document: dict[str, Any] | None = None
    labels: dict[str, str] | None = None
    parent_id: str | None = None
    scheduled_at: datetime | None = None
    max_attempts: int | None = None
    backoff_base_s: float | None = None
    backoff_max_s: float | None = None
    timeout_s: int | None = None
    lease_s: int | None = None
    idempotency_key: str | None = None
    targets: list[str] | None = None
    steps: list[str] | None = None
    collaborators: list[str] | None = None


# "queued" hands an unstarted execution back to the queue (a worker that stops, say).
Reportable = Literal["queued", "in_progress", "succeeded", "failed", "rejected", "canceled"]


class ExecutionUpdate(_Send):
    """A worker's report on one execution it holds; every field but the address is optional."""

    job_id: str
    execution_number: int
    status: Reportable | None = None
    expected_version: int | None = None
    status_details: dict[str, str] | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    exit_code: int | None = None
    lease_s: int | None = None
    worker_id: str | None = None
    steps: list[dict[str, Any]] | None = None
    progress: dict[str, Any] | None = None
    counters: dict[str, int] | None = None
    pid: int | None = None
    hostname: str | None = None
    # Appended in the update's own write, only if it applies: `{"source", "data", "ts"?}` lines
    # and `{"message", "code"?, "source"?, "data"?, "retriable"?}` record errors (1,000 each).
    logs: list[dict[str, Any]] | None = None
    record_errors: list[dict[str, Any]] | None = None

    def body(self) -> dict[str, Any]:
        """The fields given, as they are: the request's JSON writer (`json_text`) writes what
        `_Send.body` would have converted, without a copy of every line and record."""
        return {name: value for name, value in self.__dict__.items() if value is not None}


class WorkerInfo(_Send):
    id: str | None = None
    hostname: str | None = None
    pid: int | None = None
