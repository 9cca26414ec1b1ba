"""integrator.io's job API: list, get, job errors, the error file, resolve, cancel."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response, status
from pydantic import StringConstraints

from jobyard.api.deps import App
from jobyard.domain.errors import Conflict, NotFound
from jobyard.domain.ids import is_id
from jobyard.domain.states import TERMINAL_JOB
from jobyard.faces.celigo.auth import Celigo
from jobyard.faces.celigo.errors import CeligoRoute
from jobyard.faces.celigo.jobs_query import parse_jobs_query
from jobyard.faces.celigo.listing import children_of, family_of, find_jobs, one_job
from jobyard.faces.celigo.wire import job_error_out, job_out
from jobyard.service.record_errors import MAX_PAGE as MAX_ERRORS

router = APIRouter(route_class=CeligoRoute)
JSON = dict[str, Any]
ErrorId = Annotated[str, StringConstraints(min_length=1, max_length=100)]
ErrorIds = Annotated[list[ErrorId] | None, Body(max_length=1000)]


@router.get("/jobs")
async def list_jobs(request: Request, jy: App, caller: Celigo) -> list[JSON]:
    """Newest first, at most 1,001; see jobs_query.py for the parameters."""
    jobs = await find_jobs(jy, caller, parse_jobs_query(request.query_params))
    return [job_out(j) for j in jobs]


@router.get("/jobs/{job_id}")
async def get_job(job_id: str, jy: App, caller: Celigo) -> JSON:
    return job_out(await one_job(jy, caller, job_id))


@router.get("/jobs/{job_id}/family")
async def get_family(job_id: str, jy: App, caller: Celigo) -> JSON:
    """A flow job with its export and import jobs as `children`, oldest first."""
    job = job_out(await one_job(jy, caller, job_id))
    job["children"] = [job_out(c) for c in reversed(await family_of(jy, caller, job_id))]
    return job


@router.get("/jobs/{job_id}/joberrors")
@router.get("/jobs/{job_id}/jobErrors")
async def job_errors(job_id: str, jy: App, caller: Celigo) -> list[JSON]:
    """The job's record errors, oldest first, the first 1,000 (the error file has them all)."""
    errors = await jy.record_errors.page(
        caller, job_id, cursor=None, limit=MAX_ERRORS, resolved=None
    )
    return [job_error_out(e) for e in errors]


@router.get("/jobs/{job_id}/errorFile/signedURL")
async def error_file_url(job_id: str, request: Request, jy: App, caller: Celigo) -> JSON:
    """A signed URL (1 hour) that downloads every record error of the job as CSV, no token."""
    signed = await jy.record_errors.file_url(caller, job_id, "csv", None)
    return {"signedURL": str(request.base_url).rstrip("/") + signed.url}


@router.put("/jobs/{job_id}/joberrors/resolve")
async def resolve_job_errors(job_id: str, jy: App, caller: Celigo, ids: ErrorIds = None) -> JSON:
    """Resolve the errors whose ids the body lists (a JSON array), or all of the job's."""
    return {"numResolved": await jy.record_errors.resolve(caller, job_id, ids)}


@router.put("/jobs/{job_id}/joberrors/{error_id}/resolve", status_code=status.HTTP_201_CREATED)
async def resolve_job_error(job_id: str, error_id: str, jy: App, caller: Celigo) -> JSON:
    if not is_id(error_id):  # names no error, as a malformed job id names no job
        raise NotFound("job error not found", field="_jobErrorId")
    return {"numResolved": await jy.record_errors.resolve(caller, job_id, [error_id])}


@router.put("/jobs/{job_id}/resolve", status_code=status.HTTP_204_NO_CONTENT)
async def resolve_job(job_id: str, jy: App, caller: Celigo) -> Response:
    """Resolve every error of the job and, for a flow job, of its export and import jobs."""
    await jy.record_errors.resolve(caller, job_id, None)
    for child in await children_of(jy, caller, job_id):
        await jy.record_errors.resolve(caller, child.id, None)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/jobs/{job_id}/cancel")
async def cancel_job(job_id: str, jy: App, caller: Celigo) -> JSON:
    """Cancel a job and, for a flow job, its unfinished export and import jobs. A queued job is
    canceled at once; a running one is `canceling` until its worker stops. A finished job
    answers 409."""
    now = await jy.store.now()
    await jy.jobs.cancel(caller, job_id, "canceled through integrator.io's API", False, now)
    for child in await children_of(jy, caller, job_id):
        if child.status in TERMINAL_JOB:
            continue
        with contextlib.suppress(Conflict):  # it finished meanwhile
            await jy.jobs.cancel(caller, child.id, "its flow job was canceled", False, now)
    return job_out(await one_job(jy, caller, job_id))
