"""Finch's jobs endpoints: automated jobs (create, get, list) and manual jobs (get)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from jobyard.api.deps import get_jobyard
from jobyard.domain.entities import Job, NewJob
from jobyard.domain.errors import InvalidInput, NotFound
from jobyard.domain.exclusive import ExclusiveRule
from jobyard.domain.filters import MAX_PAGE, JobFilter
from jobyard.faces.finch.connection import Connection
from jobyard.faces.finch.errors import FinchRoute, finch_error
from jobyard.faces.finch.jobs import (
    AUTOMATED_TYPES,
    CONNECTION_LABEL,
    DATA_SYNC_ALL,
    INDIVIDUAL_LABEL,
    QUEUE,
    CreateIn,
    automated_job,
    manual_job,
)
from jobyard.service.auth import Principal
from jobyard.service.exclusive_jobs import ExclusiveJobs
from jobyard.service.runtime import Jobyard

router = APIRouter(route_class=FinchRoute)

# Finch: "a fixed window rate limit of 1 forced refresh per hour per connection" by default;
# how many a connection gets is the server's setting (`finch_refreshes_per_hour`).
REFRESH_WINDOW = timedelta(hours=1)
MAX_OFFSET = 100_000


def _job_url(request: Request, job_id: str) -> str:
    return str(request.url_for("finch_automated_job", job_id=job_id))


async def _refreshes_used(jy: Jobyard, principal: Principal, since: datetime) -> int:
    """The connection's data syncs made since `since`, counted up to the quota (no further:
    past it, the answer is the same)."""
    allowed = jy.settings.finch_refreshes_per_hour
    used = 0
    before: str | None = None
    while used < allowed:
        flt = JobFilter(
            types=[DATA_SYNC_ALL],
            labels={CONNECTION_LABEL: principal.owner},
            created_at_gte=since,
            limit=min(MAX_PAGE, allowed - used),
            before_id=before,
        )
        page = await jy.jobs.find(principal, flt)
        used += len(page)
        if len(page) < flt.limit:
            break
        before = page[-1].id
    return used


def _quota(jy: Jobyard, used: int) -> dict[str, int]:
    allowed = jy.settings.finch_refreshes_per_hour
    return {"allowed_refreshes": allowed, "remaining_refreshes": max(0, allowed - used)}


@router.post("/jobs/automated")
async def create_automated_job(
    request: Request, body: CreateIn, principal: Connection
) -> JSONResponse:
    jy = await get_jobyard(request)
    exclusive = ExclusiveJobs(jy.store, jy.notifier)
    allowed = jy.settings.finch_refreshes_per_hour
    labels = {CONNECTION_LABEL: principal.owner}
    params: dict[str, Any] = {}
    if body.type == DATA_SYNC_ALL:
        start, retry_at = await exclusive.window(REFRESH_WINDOW)
        rule = ExclusiveRule(labels, quota=allowed, window_start=start)
    else:
        if body.params is None:
            raise InvalidInput("params.individual_id is required for w4_form_employee_sync")
        labels[INDIVIDUAL_LABEL] = params["individual_id"] = body.params.individual_id
        rule = ExclusiveRule(labels)
    # A Finch job runs once: a failure is final, and a new refresh is a new job.
    new = NewJob(type=body.type, queue=QUEUE, params=params, labels=labels, max_attempts=1)
    outcome = await exclusive.create(principal, new, rule)
    if body.type == DATA_SYNC_ALL:
        used = outcome.used
    else:
        start, retry_at = await exclusive.window(REFRESH_WINDOW)
        used = await _refreshes_used(jy, principal, start)
    quota = _quota(jy, used)
    if outcome.job is None:
        seconds = max(1, int((retry_at - await jy.store.now()).total_seconds()))
        return finch_error(
            429,
            f"{allowed} refresh(es) per hour for this connection are used up",
            headers={"Retry-After": str(seconds), "x-should-retry": "false"},
            extra={**quota, "retry_at": retry_at.isoformat().replace("+00:00", "Z")},
        )
    job = outcome.job
    answer = {"job_id": job.id, "job_url": _job_url(request, job.id), **quota}
    return JSONResponse(answer, status_code=201 if outcome.created else 200)


async def _automated(jy: Jobyard, principal: Principal, job_id: str) -> Job:
    """The connection's automated job: another connection's reads as missing, as at Finch,
    where an access token sees its own connection only."""
    job = await jy.jobs.get(principal, job_id)
    if job.type not in AUTOMATED_TYPES or job.labels.get(CONNECTION_LABEL) != principal.owner:
        raise NotFound("job not found", job_id=job_id)
    return job


@router.get("/jobs/automated/{job_id}", name="finch_automated_job")
async def get_automated_job(request: Request, job_id: str, principal: Connection) -> JSONResponse:
    jy = await get_jobyard(request)
    job = await _automated(jy, principal, job_id)
    return JSONResponse(automated_job(job, _job_url(request, job.id)))


@router.get("/jobs/automated")
async def list_automated_jobs(
    request: Request,
    principal: Connection,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> JSONResponse:
    """The connection's automated jobs, newest first."""
    jy = await get_jobyard(request)
    labels = {CONNECTION_LABEL: principal.owner}
    found: list[Job] = []
    before: str | None = None
    while len(found) < offset + limit:
        flt = JobFilter(types=list(AUTOMATED_TYPES), labels=labels, limit=MAX_PAGE)
        flt.before_id = before
        page = await jy.jobs.find(principal, flt)
        found.extend(page)
        if len(page) < MAX_PAGE:
            break
        before = page[-1].id
    start, _ = await ExclusiveJobs(jy.store, jy.notifier).window(REFRESH_WINDOW)
    used = await _refreshes_used(jy, principal, start)
    data = [automated_job(j, _job_url(request, j.id)) for j in found[offset : offset + limit]]
    quotas = {DATA_SYNC_ALL: _quota(jy, used)}
    return JSONResponse({"data": data, "meta": {"quotas": quotas}})


@router.get("/jobs/manual/{job_id}")
async def get_manual_job(request: Request, job_id: str, principal: Connection) -> JSONResponse:
    jy = await get_jobyard(request)
    return JSONResponse(manual_job(await jy.jobs.get(principal, job_id)))
