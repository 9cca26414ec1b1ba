"""Turning table rows into entities, in one place for both backends."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.engine import RowMapping

from jobyard.domain.entities import (
    COUNTERS,
    ApiKey,
    ClaimedExecution,
    Execution,
    Job,
    KillOrder,
    NewJob,
    Tenant,
)
from jobyard.domain.states import ExecutionStatus, JobStatus

EXECUTION_PREFIX = "x_"
# Statuses by their stored text: a dictionary lookup, where calling the enum costs a
# microsecond a row, and lists and batches read thousands of rows.
EXECUTION_STATUS = {s.value: s for s in ExecutionStatus}
JOB_STATUS = {s.value: s for s in JobStatus}


_EXECUTION_NAMES = (
    "tenant_id", "job_id", "execution_number", "status", "version", "queue", "type", "priority",
    "queued_at", "available_at", "last_updated_at", "status_details", "started_at",
    "completed_at", "lease_expires_at", "lease_s", "worker_id", "hostname", "pid", "exit_code",
    "target",
)  # fmt: skip


def execution_from(row: RowMapping | Mapping[str, Any], prefix: str = "") -> Execution:
    """An execution from its row, or from the columns named `prefix` + name of a joined row.
    Its fields are given in their order (by name cost twice as much, for every row of every
    claim and end)."""
    r = {name: row[prefix + name] for name in _EXECUTION_NAMES} if prefix else row
    return Execution(
        str(r["tenant_id"]),
        str(r["job_id"]),
        r["execution_number"],
        EXECUTION_STATUS[r["status"]],
        r["version"],
        r["queue"],
        r["type"],
        r["priority"],
        r["queued_at"],
        r["available_at"],
        r["last_updated_at"],
        r["status_details"] or {},
        r["started_at"],
        r["completed_at"],
        r["lease_expires_at"],
        r["lease_s"],
        r["worker_id"],
        r["hostname"],
        r["pid"],
        r["exit_code"],
        r["target"],
    )


def job_from(row: RowMapping | dict[str, Any], latest: Execution | None = None) -> Job:
    kill = None
    if row["kill_requested_at"] is not None:
        kill = KillOrder(
            requested_at=row["kill_requested_at"],
            requested_by=row["kill_requested_by"],
            force=bool(row["kill_force"]),
            reason=row["kill_reason"],
        )
    return Job(
        id=str(row["id"]),
        tenant_id=str(row["tenant_id"]),
        type=row["type"],
        queue=row["queue"],
        priority=row["priority"],
        status=JOB_STATUS[row["status"]],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        params=row["params"],
        document=row["document"],
        labels=row["labels"] or {},
        parent_id=str(row["parent_id"]) if row["parent_id"] else None,
        owner=row["owner"],
        collaborators=row["collaborators"] or [],
        scheduled_at=row["scheduled_at"],
        started_at=row["started_at"],
        completed_at=row["completed_at"],
        max_attempts=row["max_attempts"],
        backoff_base_s=row["backoff_base_s"],
        backoff_max_s=row["backoff_max_s"],
        timeout_s=row["timeout_s"],
        lease_s=row["lease_s"],
        idempotency_key=row["idempotency_key"],
        targets=row["targets"] or [],
        counters={name: int(row[name]) for name in COUNTERS},
        progress=row["progress"],
        steps=row["steps"] or [],
        result=row["result"],
        error=row["error"],
        attempts=row["attempts"],
        kill_order=kill,
        latest_execution=latest,
    )


def job_made(
    tenant_id: str,
    owner: str | None,
    job_id: str,
    new: NewJob,
    steps: list[Any],
    row: RowMapping | dict[str, Any],
) -> Job:
    """A job as its insert wrote it: what was asked, and the columns the database chose (`status`,
    `created_at`, `scheduled_at`), so that nothing just sent is read back and decoded again.
    Its first execution comes with it."""
    created_at = row["created_at"]
    job = Job(
        id=job_id,
        tenant_id=tenant_id,
        type=new.type,
        queue=new.queue,
        priority=new.priority,
        status=JOB_STATUS[row["status"]],
        created_at=created_at,
        updated_at=created_at,
        params=new.params,
        document=new.document,
        labels=new.labels,
        parent_id=new.parent_id,
        owner=owner,
        collaborators=new.collaborators,
        scheduled_at=row["scheduled_at"],
        max_attempts=new.max_attempts,
        backoff_base_s=new.backoff_base_s,
        backoff_max_s=new.backoff_max_s,
        timeout_s=new.timeout_s,
        lease_s=new.lease_s,
        idempotency_key=new.idempotency_key,
        targets=new.targets,
        steps=steps,
        attempts=1,
    )
    job.latest_execution = first_execution(job)
    return job


def first_execution(job: Job) -> Execution:
    """The execution queued with a new job, as its insert wrote it."""
    created_at: datetime = job.created_at
    return Execution(
        tenant_id=job.tenant_id,
        job_id=job.id,
        execution_number=1,
        status=ExecutionStatus.QUEUED,
        version=1,
        queue=job.queue,
        type=job.type,
        priority=job.priority,
        queued_at=created_at,
        available_at=job.scheduled_at or created_at,
        last_updated_at=created_at,
        target=job.targets[0] if len(job.targets) == 1 else None,
    )


def claimed_of(
    leased: list[Execution], payload: dict[str, tuple[Any, Any]]
) -> list[ClaimedExecution]:
    """Leased executions, in their order, with their jobs' (params, document) from `payload`."""
    return [
        ClaimedExecution(
            execution=x,
            job_type=x.type,
            params=payload[x.job_id][0],
            document=payload[x.job_id][1],
        )
        for x in leased
    ]


def tenant_from(row: RowMapping) -> Tenant:
    return Tenant(id=str(row["id"]), name=row["name"], created_at=row["created_at"])


def key_from(row: RowMapping) -> ApiKey:
    return ApiKey(
        id=str(row["id"]),
        tenant_id=str(row["tenant_id"]),
        name=row["name"],
        role=row["role"],
        created_at=row["created_at"],
        prefix=row["prefix"],
        secret_hash=row["secret_hash"],
        revoked_at=row["revoked_at"],
        expires_at=row["expires_at"],
        is_system=bool(row["is_system"]),
        queues=row["queues"],
        type=row["type"],
        subject=row["subject"],
        things=row["things"],
        secret_enc=row["secret_enc"],
    )
