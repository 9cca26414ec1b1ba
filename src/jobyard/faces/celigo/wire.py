"""Core objects in integrator.io's shape: jobs and job errors (fields absent when unknown, as
integrator.io leaves them out; times in UTC with milliseconds)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from jobyard.domain.entities import RecordError
from jobyard.domain.families import FamilyJob
from jobyard.domain.states import TERMINAL_JOB
from jobyard.faces.celigo.ids import ID_LABELS
from jobyard.faces.celigo.statuses import RETRIABLE, TO_CELIGO

JSON = dict[str, Any]


def timestamp(t: datetime) -> str:
    t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def job_out(family: FamilyJob) -> JSON:
    """A job as integrator.io shows it; its counters are its own plus its children's (a flow
    job's are its run's totals)."""
    job = family.job
    out: JSON = {"_id": job.id, "type": job.type}
    for name, label in ID_LABELS.items():
        if label in job.labels:
            out[name] = job.labels[label]
    if job.parent_id is not None:
        out["_flowJobId"] = job.parent_id
    out["status"] = TO_CELIGO[job.status]
    if job.started_at is not None:
        out["startedAt"] = timestamp(job.started_at)
    if job.completed_at is not None:
        out["endedAt"] = timestamp(job.completed_at)
    c = family.totals
    out["numError"] = c.get("num_error", 0)
    out["numSuccess"] = c.get("num_success", 0)
    out["numIgnore"] = c.get("num_ignore", 0)
    out["numExport"] = c.get("num_export", 0)
    out["numPagesProcessed"] = c.get("num_pages", 0)
    if job.type == "export":
        out["numPagesGenerated"] = c.get("num_pages", 0)
        out["doneExporting"] = job.status in TERMINAL_JOB
    out["retriable"] = job.status in RETRIABLE
    out["createdAt"] = timestamp(job.created_at)
    out["lastModified"] = timestamp(job.updated_at)
    return out


def job_error_out(e: RecordError) -> JSON:
    resolved = e.resolved_at is not None
    out: JSON = {
        "_id": e.id,
        "_jobId": e.job_id,
        "resolved": resolved,
        "resolve": resolved,  # integrator.io's sample spells it so; its schema, `resolved`
        "retry": e.retriable,
        "retriable": e.retriable,
        "createdAt": timestamp(e.created_at),
        "code": e.code or "",
        "message": e.message,
        "source": e.source or "",
        "extracted": "" if e.data is None else orjson.dumps(e.data).decode(),
    }
    if e.resolved_at is not None:
        out["resolvedAt"] = timestamp(e.resolved_at)
    return out
