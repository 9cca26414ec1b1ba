"""Jobyard's objects in Posit Connect's words: job items, content items, log entries, kill
orders and the log file's name.

A content item is the set of a tenant's jobs labelled `content_guid=<guid>`; a job's `key` (and
`id`) is the Jobyard job id. Other labels may fill Connect's fields that Jobyard has no notion
of: `content_id`, `content_name`, `content_title`, `app_mode`, `variant_id`, `bundle_id`, `tag`,
`ppid`, `remote_id`, `run_as`, `cluster`, `image`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jobyard.domain.entities import Job, LogEntry
from jobyard.domain.states import TERMINAL_JOB

JSON = dict[str, Any]

CONTENT_LABEL = "content_guid"
ACTIVE, FINISHED, FINALIZED = 0, 1, 2


def rfc3339(at: datetime | None) -> str | None:
    if at is None:
        return None
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def app_id(job: Job, guid: str) -> str:
    return job.labels.get("content_id") or guid


def tag(job: Job) -> str:
    return job.labels.get("tag") or job.type


def variant_id(job: Job) -> str:
    return job.labels.get("variant_id") or "0"


def bundle_id(job: Job) -> str:
    return job.labels.get("bundle_id") or "0"


def status_code(job: Job) -> int:
    """0 Active while the job may still run; 2 Finalized once it has ended (its end and its
    log are written together, so Connect's in-between Finished is never seen)."""
    return FINALIZED if job.status in TERMINAL_JOB else ACTIVE


def job_item(job: Job, guid: str) -> JSON:
    ex = job.latest_execution
    labels = job.labels
    app = app_id(job, guid)
    return {
        "id": job.id,
        "key": job.id,
        "ppid": labels.get("ppid"),
        "pid": str(ex.pid) if ex is not None and ex.pid is not None else None,
        "remote_id": labels.get("remote_id"),
        "app_id": app,
        "app_guid": guid,
        "content_id": app,
        "content_guid": guid,
        "variant_id": variant_id(job),
        "bundle_id": bundle_id(job),
        "start_time": rfc3339(job.started_at),
        "end_time": rfc3339(job.completed_at),
        "last_heartbeat_time": rfc3339(ex.last_updated_at if ex is not None else job.updated_at),
        "queued_time": rfc3339(ex.queued_at if ex is not None else job.created_at),
        "queue_name": job.queue,
        "tag": tag(job),
        "exit_code": ex.exit_code if ex is not None else None,
        "status": status_code(job),
        "result": job.result,
        "hostname": ex.hostname if ex is not None else None,
        "cluster": labels.get("cluster"),
        "image": labels.get("image"),
        "run_as": labels.get("run_as"),
        "creator_id": job.owner,
        "creator_guid": job.owner,
    }


def content_item(guid: str, newest: Job, oldest: Job, role: str, include: set[str]) -> JSON:
    """The fields the official client reads, from the content's newest and oldest jobs."""
    labels = {**oldest.labels, **newest.labels}
    item: JSON = {
        "guid": guid,
        "name": labels.get("content_name") or guid,
        "title": labels.get("content_title"),
        "description": "",
        "id": app_id(newest, guid),
        "app_mode": labels.get("app_mode") or "unknown",
        "owner_guid": oldest.owner,
        "created_time": rfc3339(oldest.created_at),
        "last_deployed_time": rfc3339(newest.created_at),
        "bundle_id": bundle_id(newest),
        "content_category": "",
        "parameterized": False,
        "locked": False,
        "app_role": role,
        "content_url": "",
        "dashboard_url": "",
    }
    if "owner" in include:
        item["owner"] = {
            "guid": oldest.owner,
            "username": oldest.owner,
            "first_name": None,
            "last_name": None,
        }
    if "tags" in include:
        item["tags"] = []
    if "vanity_url" in include:
        item["vanity_url"] = None
    return item


def log_entry(entry: LogEntry) -> JSON:
    """`system` lines (Jobyard's own notes) are reported as stderr: Connect has two sources."""
    source = entry.source if entry.source in ("stdout", "stderr") else "stderr"
    return {"source": source, "timestamp": rfc3339(entry.ts), "data": entry.data}


def log_line(entry: LogEntry) -> str:
    return f"{rfc3339(entry.ts)} [{entry.source}] {entry.data}\n"


def log_filename(job: Job, guid: str) -> str:
    """Connect's template:
    `rstudio-connect.{app_id}.{variant_id}.{bundle_id}.{job_tag}.{job_key}.log`."""
    parts = [app_id(job, guid), variant_id(job), bundle_id(job), tag(job), job.id]
    safe = ["".join(c if c.isalnum() or c in "-_" else "_" for c in p) for p in parts]
    return "rstudio-connect." + ".".join(safe) + ".log"


def kill_order(job: Job, guid: str) -> JSON:
    # A queued job ends at once (no worker to tell); a running one gets the order.
    ended = job.status in TERMINAL_JOB
    result = "Job terminated" if ended else "Order to kill job registered"
    return {
        "guid": job.id,
        "app_id": app_id(job, guid),
        "app_guid": guid,
        "job_id": job.id,
        "job_key": job.id,
        "result": result,
    }


def logged_error(job: Job) -> JSON | None:
    """Connect's LoggedError (`code`, `summary`, `help_url`) from the job's primary error."""
    if not job.error:
        return None
    err = job.error
    summary = err.get("message") or err.get("summary") or err.get("detail") or str(err)
    code = err.get("code")
    return {
        "code": str(code) if code is not None else None,
        "summary": str(summary),
        "help_url": err.get("help_url") if isinstance(err.get("help_url"), str) else None,
    }
