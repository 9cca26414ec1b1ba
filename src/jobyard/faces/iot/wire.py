"""AWS IoT's wire shapes: statuses in upper case, times as epoch seconds, documents as JSON
text, things and jobs named by ARNs."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import orjson

from jobyard.domain.entities import Execution
from jobyard.domain.errors import InvalidInput
from jobyard.domain.states import ExecutionStatus
from jobyard.domain.things import ThingExecution

THING_NAME = re.compile(r"[a-zA-Z0-9:_-]{1,128}")
JOB_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
ARN = re.compile(r"arn:aws[a-z-]*:iot:[a-z0-9-]*:[0-9]*:(thing|thinggroup)/([a-zA-Z0-9:_-]{1,128})")
NO_STEP_TIMEOUT_S = 12 * 3600


def check_thing(name: str) -> str:
    if not THING_NAME.fullmatch(name):
        raise InvalidInput(f"invalid thing name {name!r}", field="thingName")
    return name


def check_job_id(job_id: str) -> str:
    if not JOB_ID.fullmatch(job_id):
        raise InvalidInput(f"invalid job id {job_id!r}", field="jobId")
    return job_id


def account_of(tenant_id: str) -> str:
    """A twelve-digit account number for the tenant, stable across calls."""
    return f"{int(tenant_id.replace('-', ''), 16) % 10**12:012d}"


def arn(region: str, tenant_id: str, kind: str, name: str) -> str:
    return f"arn:aws:iot:{region}:{account_of(tenant_id)}:{kind}/{name}"


def parse_targets(targets: list[str]) -> tuple[list[str], list[str]]:
    """Thing ARNs and thing group ARNs, as names."""
    things: list[str] = []
    groups: list[str] = []
    for target in targets:
        m = ARN.fullmatch(target)
        if m is None:
            raise InvalidInput(f"target {target!r} is not a thing or thing group ARN")
        (things if m.group(1) == "thing" else groups).append(m.group(2))
    return things, groups


def status_in(value: str) -> ExecutionStatus:
    known = {s.value.upper(): s for s in ExecutionStatus}
    if value not in known:
        raise InvalidInput(f"unknown status {value!r}", field="status")
    return known[value]


def status_out(status: ExecutionStatus) -> str:
    return status.value.upper()


def epoch(at: datetime | None) -> int | None:
    return None if at is None else int(at.timestamp())


def epoch_f(at: datetime | None) -> float | None:
    return None if at is None else at.timestamp()


def document_text(document: dict[str, Any] | None) -> str | None:
    return None if document is None else orjson.dumps(document).decode()


def document_in(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise InvalidInput("the job document is not valid JSON", field="document") from None
    if not isinstance(value, dict):
        raise InvalidInput("the job document must be a JSON object", field="document")
    return value


def seconds_left(ex: Execution, now: datetime) -> int | None:
    """Before the step timeout, when one was set."""
    if ex.lease_expires_at is None or ex.lease_s is None or ex.lease_s >= NO_STEP_TIMEOUT_S:
        return None
    return max(0, int((ex.lease_expires_at - now).total_seconds()))


def execution_state(ex: Execution) -> dict[str, Any]:
    return {
        "status": status_out(ex.status),
        "statusDetails": ex.status_details,
        "versionNumber": ex.version,
    }


def drop_none(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def data_execution(
    te: ThingExecution, thing: str, now: datetime, with_document: bool
) -> dict[str, Any]:
    """A JobExecution as the data plane answers it."""
    ex = te.execution
    return drop_none(
        {
            "jobId": te.job_name,
            "thingName": thing,
            "status": status_out(ex.status),
            "statusDetails": ex.status_details,
            "queuedAt": epoch(ex.queued_at),
            "startedAt": epoch(ex.started_at),
            "lastUpdatedAt": epoch(ex.last_updated_at),
            "approximateSecondsBeforeTimedOut": seconds_left(ex, now),
            "versionNumber": ex.version,
            "executionNumber": ex.execution_number,
            "jobDocument": document_text(te.document) if with_document else None,
        }
    )


def data_summary(te: ThingExecution) -> dict[str, Any]:
    ex = te.execution
    return drop_none(
        {
            "jobId": te.job_name,
            "queuedAt": epoch(ex.queued_at),
            "startedAt": epoch(ex.started_at),
            "lastUpdatedAt": epoch(ex.last_updated_at),
            "versionNumber": ex.version,
            "executionNumber": ex.execution_number,
        }
    )


def control_summary(te: ThingExecution) -> dict[str, Any]:
    ex = te.execution
    return drop_none(
        {
            "status": status_out(ex.status),
            "queuedAt": epoch_f(ex.queued_at),
            "startedAt": epoch_f(ex.started_at),
            "lastUpdatedAt": epoch_f(ex.last_updated_at),
            "executionNumber": ex.execution_number,
            "retryAttempt": ex.execution_number - 1,
        }
    )
