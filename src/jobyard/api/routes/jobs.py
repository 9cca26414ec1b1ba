"""`/v1/jobs`: create, batch create, list, get, cancel, retry, executions."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Body, Header, Query, Request, Response, status

from jobyard.api.deps import App, Caller
from jobyard.api.json_route import JsonRoute
from jobyard.api.list_query import (
    CursorParam,
    ListParam,
    StatusParam,
    TimeParam,
    TypeParam,
    parse_job_filter,
)
from jobyard.api.operations import needs
from jobyard.api.preferences import applied, wants_minimal
from jobyard.api.schemas.executions import ExecutionList, ExecutionOut
from jobyard.api.schemas.jobs import (
    CancelIn,
    CollaboratorsIn,
    JobBatchIn,
    JobBatchOut,
    JobIn,
    JobOut,
    JobPage,
)
from jobyard.domain.errors import InvalidInput
from jobyard.domain.filters import encode_cursor
from jobyard.service.permissions import Op

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], route_class=JsonRoute)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=JobOut,
    responses={200: {"model": JobOut, "description": "A replay: the job the same key made."}},
    openapi_extra=needs(Op.JOB_CREATE),
)
async def create_job(
    body: JobIn,
    jy: App,
    caller: Caller,
    response: Response,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=255)] = None,
) -> JobOut:
    """Create a job. The same `Idempotency-Key` with the same body answers the same job (200)."""
    if idempotency_key and body.idempotency_key and idempotency_key != body.idempotency_key:
        raise InvalidInput(
            "Idempotency-Key header and idempotency_key differ", field="idempotency_key"
        )
    ((job, created),) = await jy.jobs.create(caller, [body.to_new(idempotency_key)])
    if not created:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return JobOut.of(job)


@router.post(
    "/batch",
    status_code=status.HTTP_201_CREATED,
    response_model=JobBatchOut,
    openapi_extra=needs(Op.JOB_CREATE),
)
async def create_jobs(
    body: JobBatchIn, jy: App, caller: Caller, request: Request
) -> JobBatchOut | Response:
    """Create up to 1,000 jobs in one transaction: all of them, or none. With `Prefer:
    return=minimal`, each job of the answer has its `id` and `status` only."""
    created = await jy.jobs.create(caller, [j.to_new() for j in body.jobs])
    if wants_minimal(request):
        ids = [{"id": job.id, "status": job.status.value} for job, _ in created]
        answer = Response(orjson.dumps({"jobs": ids}), 201, media_type="application/json")
        applied(answer)
        return answer
    return JobBatchOut.model_construct(jobs=[JobOut.of(job) for job, _ in created])


@router.get("", response_model=JobPage, openapi_extra=needs(Op.JOB_READ))
async def list_jobs(
    request: Request,
    jy: App,
    caller: Caller,
    status_: StatusParam = None,
    type_: TypeParam = None,
    queue: ListParam = None,
    parent_id: ListParam = None,
    created_at_gte: TimeParam = None,
    created_at_lte: TimeParam = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: CursorParam = None,
) -> JobPage:
    """Newest first. Also: `<field>_in`, `label.<key>=<value>`, `updated_at_gte/lte`,
    `num_*_gte/lte` for each counter. Unknown parameters are refused."""
    flt = parse_job_filter(request.query_params)
    jobs = await jy.jobs.find(caller, flt)
    next_cursor = encode_cursor(jobs[-1].id) if len(jobs) == flt.limit else None
    return JobPage.model_construct(items=[JobOut.of(j) for j in jobs], next_cursor=next_cursor)


@router.get("/{job_id}", response_model=JobOut, openapi_extra=needs(Op.JOB_READ))
async def get_job(job_id: str, jy: App, caller: Caller) -> JobOut:
    return JobOut.of(await jy.jobs.get(caller, job_id))


@router.post(
    "/{job_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobOut,
    openapi_extra=needs(Op.JOB_CANCEL),
)
async def cancel_job(
    job_id: str, jy: App, caller: Caller, body: Annotated[CancelIn | None, Body()] = None
) -> JobOut:
    """A queued job is canceled at once; a running one gets a kill order (status `canceling`);
    with `force` its execution is canceled at once. A finished job answers 409."""
    order = body or CancelIn()
    now = await jy.store.now()
    job = await jy.jobs.cancel(caller, job_id, order.reason, order.force, now)
    return JobOut.of(job)


@router.post("/{job_id}/retry", response_model=JobOut, openapi_extra=needs(Op.JOB_RETRY))
async def retry_job(job_id: str, jy: App, caller: Caller) -> JobOut:
    """Queue a new execution for a failed, timed-out or canceled job."""
    return JobOut.of(await jy.jobs.retry(caller, job_id))


@router.put("/{job_id}/collaborators", response_model=JobOut, openapi_extra=needs(Op.JOB_SHARE))
async def set_collaborators(job_id: str, body: CollaboratorsIn, jy: App, caller: Caller) -> JobOut:
    """Replace the keys (by subject) that may cancel and retry the job besides its owner.
    Members may share only the jobs they own; admins, any."""
    return JobOut.of(await jy.jobs.share(caller, job_id, body.collaborators))


@router.get("/{job_id}/executions", response_model=ExecutionList, openapi_extra=needs(Op.JOB_READ))
async def list_executions(job_id: str, jy: App, caller: Caller) -> ExecutionList:
    items = await jy.jobs.executions(caller, job_id)
    return ExecutionList.model_construct(items=[ExecutionOut.of(x) for x in items])
