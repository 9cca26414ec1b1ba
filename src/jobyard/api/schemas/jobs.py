"""Jobs on the wire: what a client sends to create one, and what it gets back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from jobyard.api.schemas.base import Answer, Request
from jobyard.api.schemas.executions import ExecutionOut
from jobyard.api.schemas.fields import (
    AwareDatetime,
    JsonObject,
    LabelKey,
    LabelValue,
    Name,
    Subject,
    Text,
)
from jobyard.domain.entities import COUNTERS, Job, NewJob


class JobIn(Request):
    type: Name
    queue: Name = "default"
    priority: int = Field(0, ge=-1000, le=1000, description="Higher is claimed first.")
    params: JsonObject = Field(default_factory=dict)
    document: JsonObject | None = None
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict, max_length=100)
    parent_id: str | None = None
    scheduled_at: AwareDatetime | None = None
    max_attempts: int = Field(3, ge=1, le=100)
    backoff_base_s: float = Field(1.0, ge=0, le=3600)
    backoff_max_s: float = Field(300.0, ge=0, le=86400)
    timeout_s: int | None = Field(None, ge=1, le=7 * 86400)
    lease_s: int | None = Field(None, ge=1, le=12 * 3600)
    idempotency_key: Text | None = Field(None, min_length=1, max_length=255)
    targets: list[Name] = Field(default_factory=list, max_length=10000)
    steps: list[Name] = Field(default_factory=list, max_length=1000)
    collaborators: list[Subject] = Field(
        default_factory=list,
        max_length=100,
        description="Key subjects that may cancel and retry the job besides its owner.",
    )

    def to_new(self, idempotency_key: str | None = None) -> NewJob:
        # The validated values as they are: `model_dump` would copy each one first.
        data = {name: getattr(self, name) for name in _NEW_JOB_FIELDS}
        if idempotency_key is not None:
            data["idempotency_key"] = idempotency_key
        return NewJob(**data)


_NEW_JOB_FIELDS = tuple(JobIn.model_fields)


class JobBatchIn(Request):
    jobs: list[JobIn] = Field(min_length=1, max_length=1000)


class KillOrderOut(Answer):
    requested_at: datetime
    requested_by: str | None
    force: bool
    reason: str | None


class JobOut(Answer):
    id: str
    type: str
    queue: str
    priority: int
    status: str
    params: dict[str, Any]
    document: dict[str, Any] | None
    labels: dict[str, str]
    parent_id: str | None
    owner: str | None = Field(description="The subject of the key that created the job.")
    collaborators: list[str]
    created_at: datetime
    updated_at: datetime
    scheduled_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    max_attempts: int
    backoff_base_s: float
    backoff_max_s: float
    timeout_s: int | None
    lease_s: int | None
    idempotency_key: str | None
    targets: list[str]
    num_success: int
    num_error: int
    num_ignore: int
    num_export: int
    num_pages: int
    progress: dict[str, Any] | None
    steps: list[dict[str, Any]]
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    attempts: int = Field(description="The number of the latest execution.")
    cancel_requested: bool
    kill_order: KillOrderOut | None
    latest_execution: ExecutionOut | None

    @classmethod
    def of(cls, job: Job) -> JobOut:
        data: dict[str, Any] = {
            name: getattr(job, name)
            for name in cls.model_fields
            if name not in {"cancel_requested", "latest_execution", "kill_order", *COUNTERS}
        }
        data.update(job.counters)
        data["status"] = job.status.value
        data["cancel_requested"] = job.kill_order is not None
        data["kill_order"] = KillOrderOut.model_validate(job.kill_order) if job.kill_order else None
        data["latest_execution"] = (
            ExecutionOut.of(job.latest_execution) if job.latest_execution else None
        )
        return cls.model_construct(**data)


class JobBatchOut(Answer):
    jobs: list[JobOut]


class JobPage(Answer):
    items: list[JobOut]
    next_cursor: str | None


class CollaboratorsIn(Request):
    collaborators: list[Subject] = Field(max_length=100)


class CancelIn(Request):
    reason: Text | None = Field(None, max_length=1000)
    force: bool = False
