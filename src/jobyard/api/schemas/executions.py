"""Executions and the worker protocol on the wire: claims, updates, batches."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import orjson
from pydantic import Field, PlainValidator, TypeAdapter

from jobyard.api.schemas.base import Answer, Request
from jobyard.api.schemas.fields import (
    INT32_MAX,
    Counter,
    Int32,
    JsonObject,
    Name,
    ReportableStatus,
    Text,
)
from jobyard.api.schemas.follow import RecordErrorIn, log_lines
from jobyard.api.schemas.step_reports import MAX_UPDATE_STEPS, progress_report, step_reports
from jobyard.api.schemas.update_batches import MAX_BATCH, Decoded
from jobyard.domain.entities import (
    ClaimedExecution,
    ClaimRequest,
    Execution,
    ExecutionUpdate,
    NewLogEntry,
    UpdateOutcome,
    WorkerIdentity,
)
from jobyard.domain.states import ExecutionStatus
from jobyard.service.logs import MAX_UPDATE_LINES, MAX_UPDATE_RECORD_ERRORS


class ExecutionOut(Answer):
    job_id: str
    execution_number: int
    status: str
    version: int
    queue: str
    type: str
    priority: int
    status_details: dict[str, str]
    queued_at: datetime
    available_at: datetime
    started_at: datetime | None
    last_updated_at: datetime
    completed_at: datetime | None
    lease_s: int | None
    lease_expires_at: datetime | None
    worker_id: str | None
    hostname: str | None
    pid: int | None
    exit_code: int | None
    target: str | None

    @classmethod
    def of(cls, ex: Execution) -> ExecutionOut:
        data = {name: getattr(ex, name) for name in cls.model_fields}
        data["status"] = ex.status.value
        return cls.model_construct(**data)


class ExecutionList(Answer):
    items: list[ExecutionOut]


class WorkerIn(Request):
    id: Text | None = Field(None, max_length=200)
    hostname: Text | None = Field(None, max_length=255)
    pid: int | None = Field(None, ge=0, le=INT32_MAX)


class ClaimIn(Request):
    queues: list[Name] = Field(min_length=1, max_length=100)
    types: list[Name] | None = Field(None, max_length=100)
    max: int = Field(1, ge=1, le=500)
    lease_s: int = Field(30, ge=1, le=12 * 3600)
    wait_s: float = Field(0, ge=0, le=30)
    worker: WorkerIn | None = None

    def to_request(self) -> ClaimRequest:
        w = self.worker or WorkerIn()
        return ClaimRequest(
            queues=self.queues,
            types=self.types,
            max=self.max,
            lease_s=self.lease_s,
            worker=WorkerIdentity(id=w.id, hostname=w.hostname, pid=w.pid),
        )


class ClaimedOut(Answer):
    job_id: str
    execution_number: int
    type: str
    queue: str
    priority: int
    params: dict[str, Any]
    document: dict[str, Any] | None
    version: int
    lease_s: int | None
    lease_expires_at: datetime | None


class ExecutionRef(Answer):
    job_id: str
    execution_number: int


class KillOrdersOut(Answer):
    cancel_requested: list[ExecutionRef]


class ClaimOut(Answer):
    executions: list[ClaimedOut]
    cancel_requested: list[ExecutionRef] = Field(
        default_factory=list,
        description="Executions held by `worker.id` whose jobs have a kill order waiting.",
    )

    @staticmethod
    def json_of(claimed: Sequence[ClaimedExecution], kills: Sequence[tuple[str, int]]) -> bytes:
        """The answer to a claim, as JSON: what the model writes (times in UTC end in `Z`, as
        pydantic writes them), for an eighth of what making the models and writing them cost."""
        return orjson.dumps(
            {
                "executions": [
                    {
                        "job_id": (ex := c.execution).job_id,
                        "execution_number": ex.execution_number,
                        "type": c.job_type,
                        "queue": ex.queue,
                        "priority": ex.priority,
                        "params": c.params,
                        "document": c.document,
                        "version": ex.version,
                        "lease_s": ex.lease_s,
                        "lease_expires_at": ex.lease_expires_at,
                    }
                    for c in claimed
                ],
                "cancel_requested": [{"job_id": j, "execution_number": n} for j, n in kills],
            },
            option=orjson.OPT_UTC_Z,
        )


if TYPE_CHECKING:
    UpdateLines = list[NewLogEntry]
    UpdateSteps = list[dict[str, Any]]
    UpdateProgress = dict[str, Any]
else:
    UpdateLines = log_lines(MAX_UPDATE_LINES)
    UpdateSteps = step_reports(MAX_UPDATE_STEPS)
    UpdateProgress = progress_report()


class UpdateFields(Request):
    status: ReportableStatus | None = None
    expected_version: int | None = Field(None, ge=0, le=INT32_MAX)
    status_details: dict[Text, Text] | None = Field(None, max_length=100)
    result: JsonObject | None = None
    error: JsonObject | None = None
    exit_code: Int32 | None = None
    lease_s: int | None = Field(None, ge=1, le=12 * 3600)
    worker_id: Text | None = Field(None, max_length=200)
    pid: Int32 | None = Field(None, ge=0, description="The process running it, if not the worker")
    hostname: Text | None = Field(None, max_length=255)
    steps: UpdateSteps | None = None
    progress: UpdateProgress | None = None
    counters: dict[Counter, Annotated[int, Field(ge=0, le=2**40)]] | None = Field(
        None, description="Increments, added to the job's counters."
    )
    logs: UpdateLines | None = Field(
        None,
        description="Log lines appended to the job's log in the update's own write, only if "
        "the update applies: as the logs route appends them.",
    )
    record_errors: list[RecordErrorIn] | None = Field(
        None,
        max_length=MAX_UPDATE_RECORD_ERRORS,
        description="Record errors added in the update's own write, only if it applies.",
    )

    def to_update(self, job_id: str, execution_number: int) -> ExecutionUpdate:
        return ExecutionUpdate(
            job_id=job_id,
            execution_number=execution_number,
            status=ExecutionStatus(self.status) if self.status else None,
            **{name: getattr(self, name) for name in _AS_SENT},
            steps=self.steps,
            progress=self.progress,
            logs=self.logs,
            record_errors=(
                None if self.record_errors is None else [e.to_new() for e in self.record_errors]
            ),
        )


# The fields an update takes as they were sent (plain values: no models in them).
_AS_SENT = (
    "expected_version",
    "status_details",
    "result",
    "error",
    "exit_code",
    "lease_s",
    "worker_id",
    "pid",
    "hostname",
    "counters",
)


class UpdateIn(UpdateFields):
    pass


class BatchUpdateItem(UpdateFields):
    job_id: str = Field(max_length=64)
    execution_number: int = Field(ge=1, le=INT32_MAX)


def _batch_updates() -> Any:
    """The type of a batch's updates, read into the domain's: as `update_batches.read_batch`
    decoded them from the body when it could, else through `BatchUpdateItem` (whose schema
    this is, and whose errors name the update and the field at fault)."""
    wire = Annotated[list[BatchUpdateItem], Field(min_length=1, max_length=MAX_BATCH)]
    full = TypeAdapter(wire)

    def read(value: Any) -> list[ExecutionUpdate]:
        if type(value) is Decoded:
            return value
        return [u.to_update(u.job_id, u.execution_number) for u in full.validate_python(value)]

    return Annotated[list[ExecutionUpdate], PlainValidator(read, json_schema_input_type=wire)]


if TYPE_CHECKING:
    BatchUpdates = list[ExecutionUpdate]
else:
    BatchUpdates = _batch_updates()


class BatchUpdateIn(Request):
    updates: BatchUpdates


class UpdateOut(ExecutionOut):
    cancel_requested: bool

    @classmethod
    def of_outcome(cls, o: UpdateOutcome) -> UpdateOut:
        assert o.execution is not None
        base = ExecutionOut.of(o.execution)
        return cls.model_construct(**base.__dict__, cancel_requested=o.cancel_requested)


class BatchError(Answer):
    code: str
    message: str


class BatchResult(Answer):
    job_id: str
    execution_number: int
    ok: bool
    cancel_requested: bool
    execution: ExecutionOut | None
    error: BatchError | None


class BatchUpdateOut(Answer):
    results: list[BatchResult]

    @staticmethod
    def json_of(
        updates: Sequence[ExecutionUpdate], outcomes: Sequence[UpdateOutcome], minimal: bool
    ) -> bytes:
        """The answer to a batch, as JSON. A result without an execution or an error (an
        update that applied, answered minimally: nearly all of a worker's batch) is written
        as a plain object, where making it a model to write it cost ten times as much; the
        others go through the models."""
        results: list[dict[str, Any]] = []
        for u, o in zip(updates, outcomes, strict=True):
            if o.applied and (minimal or o.execution is None):
                results.append(
                    {
                        "job_id": u.job_id,
                        "execution_number": u.execution_number,
                        "ok": True,
                        "cancel_requested": o.cancel_requested,
                        "execution": None,
                        "error": None,
                    }
                )
                continue
            result = BatchResult.model_construct(
                job_id=u.job_id,
                execution_number=u.execution_number,
                ok=o.applied,
                cancel_requested=o.cancel_requested,
                execution=None if o.execution is None else ExecutionOut.of(o.execution),
                error=None
                if o.applied
                else BatchError.model_construct(
                    code=o.error_code or "conflict", message=o.message or ""
                ),
            )
            results.append(result.model_dump(mode="json"))
        return orjson.dumps({"results": results})
