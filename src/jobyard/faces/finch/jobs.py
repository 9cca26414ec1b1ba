"""Finch's job objects, made from Jobyard jobs: types, labels, statuses and the JSON shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from jobyard.domain.entities import Job
from jobyard.domain.states import JobStatus

DATA_SYNC_ALL = "data_sync_all"
W4_FORM_EMPLOYEE_SYNC = "w4_form_employee_sync"
AUTOMATED_TYPES = (DATA_SYNC_ALL, W4_FORM_EMPLOYEE_SYNC)
QUEUE = "finch"  # where the face's jobs wait for workers
CONNECTION_LABEL = "finch.connection"
INDIVIDUAL_LABEL = "finch.individual_id"

FinchStatus = Literal[
    "pending", "in_progress", "complete", "error", "reauth_error", "permissions_error"
]

_BY_CORE: dict[JobStatus, FinchStatus] = {
    JobStatus.SCHEDULED: "pending",
    JobStatus.QUEUED: "pending",
    JobStatus.IN_PROGRESS: "in_progress",
    JobStatus.CANCELING: "in_progress",
    JobStatus.SUCCEEDED: "complete",
    JobStatus.COMPLETED: "complete",
}
# A job that ended badly is `error`, unless its worker named the cause with one of these codes
# (as `code` or `finch_code` of the error it reported).
_ERROR_CODES: dict[str, FinchStatus] = {
    "reauth_error": "reauth_error",
    "reauthenticate_user": "reauth_error",
    "permissions_error": "permissions_error",
    "insufficient_account_permissions": "permissions_error",
}


def finch_status(job: Job) -> FinchStatus:
    status = _BY_CORE.get(job.status)
    if status is not None:
        return status
    error = job.error or {}
    for key in ("code", "finch_code"):
        named = _ERROR_CODES.get(str(error.get(key, "")))
        if named is not None:
            return named
    return "error"


def manual_status(job: Job) -> Literal["pending", "in_progress", "error", "complete"]:
    status = finch_status(job)
    if status == "pending" or status == "in_progress" or status == "complete":
        return status
    return "error"


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def automated_job(job: Job, job_url: str) -> dict[str, Any]:
    individual = job.params.get("individual_id") if job.type == W4_FORM_EMPLOYEE_SYNC else None
    return {
        "job_id": job.id,
        "job_url": job_url,
        "type": job.type,
        "status": finch_status(job),
        "created_at": _time(job.created_at),
        "scheduled_at": _time(job.scheduled_at),
        "started_at": _time(job.started_at),
        "completed_at": _time(job.completed_at),
        "params": {"individual_id": individual} if individual is not None else None,
    }


def manual_job(job: Job) -> dict[str, Any]:
    """`body` is what the worker reported: its result's `body` list, else the result itself as
    one item; null while there is no result."""
    body: list[Any] | None = None
    if job.result is not None:
        inner = job.result.get("body")
        body = inner if isinstance(inner, list) else [job.result]
    return {"job_id": job.id, "status": manual_status(job), "body": body}


class W4Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    individual_id: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")


class CreateIn(BaseModel):
    """`POST /jobs/automated`: `{"type": ...}`, with `params` for `w4_form_employee_sync`."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["data_sync_all", "w4_form_employee_sync"]
    params: W4Params | None = None
