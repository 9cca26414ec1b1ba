"""Core objects as Basiq shows them: jobs with titled steps, connections, users, links.

A job's steps come from the core's steps: `pending`, `in_progress` -> `in-progress`,
`succeeded` and `skipped` -> `success`, `failed`. A finished step's `result` is a link to what
it made (the worker's own `result` when it reported one with a `url`, else the link Basiq gives
for that step), a failed step's is an embedded error. A job that ended without its steps saying
so still reads right: once it `succeeded`, its open steps read `success`; once it failed, timed
out or was canceled, its first open step reads `failed` with the job's error, the rest stay
`pending` (as Basiq leaves the steps after a failed one).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jobyard.domain.basiq_users import BasiqUser
from jobyard.domain.entities import Job
from jobyard.domain.states import JobStatus

JSON = dict[str, Any]
PREFIX = "/basiq"
CONNECTION_TYPE = "basiq.connection"
# a user's fields as Basiq names them -> as the core keeps them
USER_FIELDS = {
    "email": "email",
    "mobile": "mobile",
    "firstName": "first_name",
    "middleName": "middle_name",
    "lastName": "last_name",
}
STEPS = ("verify-credentials", "retrieve-accounts", "retrieve-transactions")

STEP_STATUS = {
    "pending": "pending",
    "in_progress": "in-progress",
    "succeeded": "success",
    "skipped": "success",
    "failed": "failed",
}
ENDED_BADLY: dict[JobStatus, tuple[str, str]] = {
    JobStatus.FAILED: ("job-failed", "The job failed"),
    JobStatus.REJECTED: ("job-failed", "The job was rejected"),
    JobStatus.TIMED_OUT: ("job-timed-out", "The job timed out"),
    JobStatus.CANCELED: ("job-canceled", "The job was canceled"),
}


def stamp(at: datetime | None) -> str | None:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ") if at is not None else None


def _connection_path(user_id: str, connection_id: str) -> str:
    return f"/users/{user_id}/connections/{connection_id}"


def _default_link(job: Job, title: str) -> str:
    user_id, conn = job.labels.get("user_id"), job.labels.get("connection_id")
    if user_id and conn:
        if title == "verify-credentials":
            return _connection_path(user_id, conn)
        if title == "retrieve-accounts":
            return f"/users/{user_id}/accounts?filter=connection.id.eq('{conn}')"
        if title == "retrieve-transactions":
            return f"/users/{user_id}/transactions?filter=connection.id.eq('{conn}')"
    return f"/jobs/{job.id}"


def _link(job: Job, title: str, reported: Any) -> JSON:
    if isinstance(reported, dict) and isinstance(reported.get("url"), str):
        return {"type": "link", **reported}
    return {"type": "link", "url": _default_link(job, title)}


def _error(reported: Any, code: str, title: str) -> JSON:
    err = reported if isinstance(reported, dict) else {}
    message = err.get("message")
    return {
        "type": "error",
        "code": str(err.get("code") or code),
        "title": str(err.get("title") or message or title),
        "detail": str(err.get("detail") or message or title),
    }


def _core_steps(job: Job) -> list[JSON]:
    if job.steps:
        return job.steps
    status = {
        JobStatus.IN_PROGRESS: "in_progress",
        JobStatus.CANCELING: "in_progress",
        JobStatus.SUCCEEDED: "succeeded",
        JobStatus.COMPLETED: "succeeded",  # a fleet job, once every child has ended
    }.get(job.status, "pending")
    return [{"name": job.type, "status": status, "result": job.result, "error": job.error}]


def steps(job: Job) -> list[JSON]:
    out: list[JSON] = []
    failed = any(s.get("status") == "failed" for s in job.steps)
    ended_badly = ENDED_BADLY.get(job.status)
    for step in _core_steps(job):
        title = str(step.get("name"))
        status = STEP_STATUS.get(str(step.get("status")), "pending")
        result: JSON | None = None
        if status in ("pending", "in-progress"):
            if job.status in (JobStatus.SUCCEEDED, JobStatus.COMPLETED):
                status = "success"
            elif ended_badly is not None and not failed:
                status, failed = "failed", True
                result = _error(job.error, *ended_badly)
        if status == "success":
            result = _link(job, title, step.get("result"))
        elif status == "failed" and result is None:
            result = _error(step.get("error") or job.error, "job-failed", "The step failed")
        out.append({"title": title, "status": status, "result": result})
    return out


def job(j: Job, base: str) -> JSON:
    body: JSON = {
        "type": "job",
        "id": j.id,
        "created": stamp(j.created_at),
        "updated": stamp(j.updated_at),
        "jobType": "connection" if j.type == CONNECTION_TYPE else j.type,
    }
    institution = j.labels.get("institution_id")
    if institution:
        body["institution"] = institution_ref(institution, base)
    body["steps"] = steps(j)
    links: JSON = {"self": f"{base}/jobs/{j.id}"}
    user_id, conn = j.labels.get("user_id"), j.labels.get("connection_id")
    if user_id and conn:
        links["source"] = base + _connection_path(user_id, conn)
    elif user_id:
        links["source"] = f"{base}/users/{user_id}"
    body["links"] = links
    return body


def institution_ref(institution_id: str, base: str) -> JSON:
    return {
        "type": "institution",
        "id": institution_id,
        "links": {"self": f"{base}/institutions/{institution_id}"},
    }


def connection_status(latest: Job) -> str:
    """`active` once credentials were verified, `invalid` when they were refused, else
    `pending`, from the connection's newest job."""
    first = next((s for s in steps(latest) if s["title"] == STEPS[0]), None)
    if first is None:
        return "pending"
    return {"success": "active", "failed": "invalid"}.get(first["status"], "pending")


def connection(user_id: str, connection_id: str, jobs: list[Job], base: str) -> JSON:
    """A connection from its jobs, newest first."""
    latest = jobs[0]
    path = base + _connection_path(user_id, connection_id)
    institution = latest.labels.get("institution_id", "")
    by_connection = f"filter=connection.id.eq('{connection_id}')"
    return {
        "type": "connection",
        "id": connection_id,
        "status": connection_status(latest),
        "createdDate": stamp(jobs[-1].created_at),
        "lastUsed": stamp(latest.updated_at),
        "institution": institution_ref(institution, base),
        "accounts": {"type": "list", "count": 0, "data": []},
        "links": {
            "self": path,
            "user": f"{base}/users/{user_id}",
            "accounts": f"{base}/users/{user_id}/accounts?{by_connection}",
            "transactions": f"{base}/users/{user_id}/transactions?{by_connection}",
            "jobs": f"{base}/users/{user_id}/jobs?{by_connection}",
        },
    }


def user(u: BasiqUser, connection_ids: list[str], base: str) -> JSON:
    body: JSON = {"type": "user", "id": u.id}
    body.update({name: getattr(u.profile, field) or "" for name, field in USER_FIELDS.items()})
    body["connections"] = {
        "type": "list",
        "count": len(connection_ids),
        "data": [
            {
                "type": "connection",
                "id": cid,
                "links": {"self": base + _connection_path(u.id, cid)},
            }
            for cid in connection_ids
        ],
    }
    body["links"] = {"self": f"{base}/users/{u.id}"}
    return body
