"""Turning table rows into entities, in one place for both backends."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import RowMapping

from jobyard.domain.entities import COUNTERS, ApiKey, Execution, Job, KillOrder, Tenant
from jobyard.domain.states import ExecutionStatus, JobStatus

EXECUTION_PREFIX = "x_"


def execution_from(row: RowMapping | dict[str, Any], prefix: str = "") -> Execution:
    def g(name: str) -> Any:
        return row[prefix + name]

    return Execution(
        tenant_id=str(g("tenant_id")),
        job_id=str(g("job_id")),
        execution_number=g("execution_number"),
        status=ExecutionStatus(g("status")),
        version=g("version"),
        queue=g("queue"),
        type=g("type"),
        priority=g("priority"),
        queued_at=g("queued_at"),
        available_at=g("available_at"),
        last_updated_at=g("last_updated_at"),
        status_details=g("status_details") or {},
        started_at=g("started_at"),
        completed_at=g("completed_at"),
        lease_expires_at=g("lease_expires_at"),
        lease_s=g("lease_s"),
        worker_id=g("worker_id"),
        hostname=g("hostname"),
        pid=g("pid"),
        exit_code=g("exit_code"),
        target=g("target"),
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
        status=JobStatus(row["status"]),
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
