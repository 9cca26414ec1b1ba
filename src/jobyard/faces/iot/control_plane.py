"""The control plane, jobs part: jobs and their executions, as the AWS IoT control plane
answers them under `/iot/control` (things and thing groups are in `registry.py`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from jobyard.api.schemas.fields import INT32_MAX
from jobyard.domain.errors import InvalidInput
from jobyard.domain.states import ExecutionStatus
from jobyard.domain.things import FleetJob, FleetStatus, NewFleetJob, ThingExecution
from jobyard.faces.iot.auth import Caller, region_of
from jobyard.faces.iot.errors import render
from jobyard.faces.iot.job_config import CreateJobBody, UpdateJobBody
from jobyard.faces.iot.services import IotServices, iot_services
from jobyard.faces.iot.wire import (
    arn,
    check_job_id,
    check_thing,
    control_summary,
    document_in,
    document_text,
    drop_none,
    epoch_f,
    parse_targets,
    seconds_left,
    status_in,
    status_out,
)
from jobyard.faces.routing import face_route

router = APIRouter(route_class=face_route(render))
Services = Annotated[IotServices, Depends(iot_services)]
MaxResults = Annotated[int, Query(alias="maxResults", ge=1, le=250)]
NextToken = Annotated[str | None, Query(alias="nextToken", max_length=200)]
Force = Annotated[bool, Query(alias="force")]


class CancelJobBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    reasonCode: str | None = Field(None, max_length=128)
    comment: str | None = Field(None, max_length=2028)


class CancelExecutionBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    expectedVersion: int | None = Field(None, ge=0, le=INT32_MAX)
    statusDetails: dict[str, str] | None = None


# jobs --------------------------------------------------------------------------------------
def _job_arn(request: Request, fleet: FleetJob) -> str:
    return arn(region_of(request), fleet.tenant_id, "job", fleet.name)


def _selection(fleet: FleetJob) -> str:
    return "CONTINUOUS" if fleet.continuous else "SNAPSHOT"


def _process_details(fleet: FleetJob) -> dict[str, Any]:
    c = fleet.counts
    es = ExecutionStatus
    return {
        "numberOfCanceledThings": c.get(es.CANCELED, 0),
        "numberOfSucceededThings": c.get(es.SUCCEEDED, 0),
        "numberOfFailedThings": c.get(es.FAILED, 0),
        "numberOfRejectedThings": c.get(es.REJECTED, 0),
        "numberOfQueuedThings": c.get(es.QUEUED, 0),
        "numberOfInProgressThings": c.get(es.IN_PROGRESS, 0),
        "numberOfRemovedThings": c.get(es.REMOVED, 0),
        "numberOfTimedOutThings": c.get(es.TIMED_OUT, 0),
    }


def _job_out(request: Request, fleet: FleetJob) -> dict[str, Any]:
    return drop_none(
        {
            "jobArn": _job_arn(request, fleet),
            "jobId": fleet.name,
            "targetSelection": _selection(fleet),
            "status": fleet.status.value.upper(),
            "forceCanceled": fleet.force_canceled,
            "reasonCode": fleet.reason_code,
            "comment": fleet.comment,
            "targets": fleet.targets,
            "description": fleet.description,
            "jobExecutionsRolloutConfig": (
                {"maximumPerMinute": fleet.rollout_per_minute} if fleet.rollout_per_minute else None
            ),
            "abortConfig": (
                {
                    "criteriaList": [
                        {
                            "failureType": c.failure_type.value,
                            "action": "CANCEL",
                            "thresholdPercentage": c.threshold_percentage,
                            "minNumberOfExecutedThings": c.min_executed,
                        }
                        for c in fleet.abort
                    ]
                }
                if fleet.abort
                else None
            ),
            "jobExecutionsRetryConfig": (
                {"criteriaList": fleet.retry_criteria} if fleet.retry_criteria else None
            ),
            "timeoutConfig": (
                {"inProgressTimeoutInMinutes": fleet.timeout_minutes}
                if fleet.timeout_minutes
                else None
            ),
            "createdAt": epoch_f(fleet.created_at),
            "lastUpdatedAt": epoch_f(fleet.updated_at),
            "completedAt": epoch_f(fleet.completed_at),
            "jobProcessDetails": _process_details(fleet),
            "isConcurrent": False,
        }
    )


@router.put("/jobs/{job_id}")
async def create_job(
    request: Request, job_id: str, body: CreateJobBody, caller: Caller, svc: Services
) -> dict[str, Any]:
    things, groups = parse_targets(body.targets)
    retries, retry_criteria = (
        body.jobExecutionsRetryConfig.retries() if body.jobExecutionsRetryConfig else (0, [])
    )
    new = NewFleetJob(
        name=check_job_id(job_id),
        things=[],
        targets=body.targets,
        document=document_in(body.document),
        description=body.description,
        timeout_minutes=body.timeoutConfig.inProgressTimeoutInMinutes
        if body.timeoutConfig
        else None,
        rollout_per_minute=body.jobExecutionsRolloutConfig.rate()
        if body.jobExecutionsRolloutConfig
        else None,
        abort=body.abortConfig.criteria() if body.abortConfig else [],
        retries=retries,
        retry_criteria=retry_criteria,
        continuous=body.continuous(),
    )
    fleet = await svc.fleets.create(caller, new, things, groups)
    return _job_summary(request, fleet)


@router.patch("/jobs/{job_id}")
async def update_job(
    job_id: str,
    caller: Caller,
    svc: Services,
    body: UpdateJobBody | None = None,
    namespace_id: Annotated[str | None, Query(alias="namespaceId")] = None,
) -> dict[str, Any]:
    if namespace_id is not None:
        raise InvalidInput("namespaces are not served", field="namespaceId")
    await svc.fleets.update(caller, check_job_id(job_id), (body or UpdateJobBody()).changes())
    return {}


def _job_summary(request: Request, fleet: FleetJob) -> dict[str, Any]:
    return drop_none(
        {"jobArn": _job_arn(request, fleet), "jobId": fleet.name, "description": fleet.description}
    )


@router.get("/jobs/{job_id}")
async def describe_job(
    request: Request, job_id: str, caller: Caller, svc: Services
) -> dict[str, Any]:
    fleet = await svc.fleets.get(caller, check_job_id(job_id))
    return {"job": _job_out(request, fleet)}


@router.get("/jobs/{job_id}/job-document")
async def job_document(job_id: str, caller: Caller, svc: Services) -> dict[str, Any]:
    fleet = await svc.fleets.get(caller, check_job_id(job_id))
    return drop_none({"document": document_text(fleet.document)})


@router.get("/jobs")
async def list_jobs(
    request: Request,
    caller: Caller,
    svc: Services,
    status: Annotated[str | None, Query()] = None,
    max_results: MaxResults = 100,
    next_token: NextToken = None,
) -> dict[str, Any]:
    wanted = None
    if status is not None:
        known = {s.value.upper(): s for s in FleetStatus}
        if status not in known:
            raise InvalidInput(f"unknown job status {status!r}", field="status")
        wanted = known[status]
    found = await svc.fleets.find(caller, wanted, next_token, max_results)
    jobs = [
        drop_none(
            {
                "jobArn": _job_arn(request, f),
                "jobId": f.name,
                "targetSelection": _selection(f),
                "status": f.status.value.upper(),
                "createdAt": epoch_f(f.created_at),
                "lastUpdatedAt": epoch_f(f.updated_at),
                "completedAt": epoch_f(f.completed_at),
                "isConcurrent": False,
            }
        )
        for f in found
    ]
    out: dict[str, Any] = {"jobs": jobs}
    if len(found) == max_results:
        out["nextToken"] = found[-1].id
    return out


@router.put("/jobs/{job_id}/cancel")
async def cancel_job(
    request: Request,
    job_id: str,
    caller: Caller,
    svc: Services,
    force: Force = False,
    body: CancelJobBody | None = None,
) -> dict[str, Any]:
    body = body or CancelJobBody()
    fleet = await svc.fleets.cancel(
        caller, check_job_id(job_id), force, body.reasonCode, body.comment
    )
    return _job_summary(request, fleet)


@router.delete("/jobs/{job_id}")
async def delete_job(job_id: str, caller: Caller, svc: Services, force: Force = False) -> Response:
    await svc.fleets.delete(caller, check_job_id(job_id), force)
    return Response(status_code=200)


@router.get("/jobs/{job_id}/things")
async def list_job_executions(
    request: Request,
    job_id: str,
    caller: Caller,
    svc: Services,
    status: Annotated[str | None, Query()] = None,
    max_results: MaxResults = 100,
) -> dict[str, Any]:
    wanted = status_in(status) if status else None
    found = await svc.fleets.executions(caller, check_job_id(job_id), wanted, max_results)
    region = region_of(request)
    return {
        "executionSummaries": [
            {
                "thingArn": arn(region, caller.tenant_id, "thing", te.execution.target or ""),
                "jobExecutionSummary": control_summary(te),
            }
            for te in found
        ]
    }


# one thing's executions --------------------------------------------------------------------
@router.get("/things/{thing_name}/jobs")
async def list_thing_executions(
    thing_name: str,
    caller: Caller,
    svc: Services,
    status: Annotated[str | None, Query()] = None,
    job_id: Annotated[str | None, Query(alias="jobId")] = None,
    max_results: MaxResults = 100,
) -> dict[str, Any]:
    wanted = status_in(status) if status else None
    found = await svc.thing_jobs.history(
        caller, check_thing(thing_name), wanted, job_id, max_results
    )
    return {
        "executionSummaries": [
            {"jobId": te.job_name, "jobExecutionSummary": control_summary(te)} for te in found
        ]
    }


def _control_execution(request: Request, te: ThingExecution, now: Any) -> dict[str, Any]:
    ex = te.execution
    return drop_none(
        {
            "jobId": te.job_name,
            "status": status_out(ex.status),
            "statusDetails": {"detailsMap": ex.status_details},
            "thingArn": arn(region_of(request), ex.tenant_id, "thing", ex.target or ""),
            "queuedAt": epoch_f(ex.queued_at),
            "startedAt": epoch_f(ex.started_at),
            "lastUpdatedAt": epoch_f(ex.last_updated_at),
            "executionNumber": ex.execution_number,
            "versionNumber": ex.version,
            "approximateSecondsBeforeTimedOut": seconds_left(ex, now),
        }
    )


@router.get("/things/{thing_name}/jobs/{job_id}")
async def describe_execution(
    request: Request,
    thing_name: str,
    job_id: str,
    caller: Caller,
    svc: Services,
    execution_number: Annotated[
        int | None, Query(alias="executionNumber", ge=1, le=INT32_MAX)
    ] = None,
) -> dict[str, Any]:
    te = await svc.thing_jobs.describe(
        caller, check_thing(thing_name), job_id, execution_number, device=False
    )
    now = await svc.fleets.store.now()
    return {"execution": _control_execution(request, te, now)}


@router.put("/things/{thing_name}/jobs/{job_id}/cancel")
async def cancel_execution(
    thing_name: str,
    job_id: str,
    caller: Caller,
    svc: Services,
    force: Force = False,
    body: CancelExecutionBody | None = None,
) -> Response:
    body = body or CancelExecutionBody()
    await svc.thing_jobs.cancel(
        caller, check_thing(thing_name), job_id, force, body.expectedVersion
    )
    return Response(status_code=200)


@router.delete("/things/{thing_name}/jobs/{job_id}/executionNumber/{execution_number}")
async def delete_execution(
    thing_name: str,
    job_id: str,
    execution_number: Annotated[int, Path(ge=1, le=INT32_MAX)],
    caller: Caller,
    svc: Services,
    force: Force = False,
    namespace_id: Annotated[str | None, Query(alias="namespaceId")] = None,
) -> dict[str, Any]:
    if namespace_id is not None:
        raise InvalidInput("namespaces are not served", field="namespaceId")
    await svc.thing_jobs.delete(
        caller, check_thing(thing_name), check_job_id(job_id), execution_number, force
    )
    return {}
