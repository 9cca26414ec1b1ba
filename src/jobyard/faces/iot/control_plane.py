"""The control plane, jobs part: things, thing groups, jobs and their executions, as the AWS
IoT control plane answers them under `/iot/control`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from jobyard.domain.errors import InvalidInput
from jobyard.domain.states import ExecutionStatus
from jobyard.domain.things import (
    AbortCriterion,
    FailureType,
    FleetJob,
    FleetStatus,
    NewFleetJob,
    Thing,
    ThingExecution,
)
from jobyard.faces.iot.auth import Caller, region_of
from jobyard.faces.iot.errors import render
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


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class AttributePayload(_Body):
    attributes: dict[str, str] = Field(default_factory=dict)


class CreateThingBody(_Body):
    thingTypeName: str | None = None
    attributePayload: AttributePayload | None = None


class GroupProperties(_Body):
    thingGroupDescription: str | None = None
    attributePayload: AttributePayload | None = None


class CreateGroupBody(_Body):
    thingGroupProperties: GroupProperties | None = None


class AddToGroupBody(_Body):
    thingGroupName: str | None = None
    thingGroupArn: str | None = None
    thingName: str | None = None
    thingArn: str | None = None


class TimeoutConfig(_Body):
    inProgressTimeoutInMinutes: int | None = Field(None, ge=1, le=10080)


class RolloutConfig(_Body):
    maximumPerMinute: int | None = Field(None, ge=1, le=1000)


class AbortCriteria(_Body):
    failureType: FailureType
    action: str = "CANCEL"
    thresholdPercentage: float = Field(ge=0, le=100)
    minNumberOfExecutedThings: int = Field(ge=1)


class AbortConfig(_Body):
    criteriaList: list[AbortCriteria]


class RetryCriteria(_Body):
    failureType: str
    numberOfRetries: int = Field(ge=0, le=10)


class RetryConfig(_Body):
    criteriaList: list[RetryCriteria]


class CreateJobBody(_Body):
    targets: list[str] = Field(min_length=1)
    document: str | None = Field(None, max_length=32768)
    description: str | None = Field(None, max_length=2028)
    targetSelection: str = "SNAPSHOT"
    timeoutConfig: TimeoutConfig | None = None
    jobExecutionsRolloutConfig: RolloutConfig | None = None
    abortConfig: AbortConfig | None = None
    jobExecutionsRetryConfig: RetryConfig | None = None


class CancelJobBody(_Body):
    reasonCode: str | None = Field(None, max_length=128)
    comment: str | None = Field(None, max_length=2028)


class CancelExecutionBody(_Body):
    expectedVersion: int | None = None
    statusDetails: dict[str, str] | None = None


# things ------------------------------------------------------------------------------------
def _thing_out(request: Request, thing: Thing) -> dict[str, Any]:
    return drop_none(
        {
            "thingName": thing.name,
            "thingArn": arn(region_of(request), thing.tenant_id, "thing", thing.name),
            "thingTypeName": thing.thing_type,
            "attributes": thing.attributes,
            "version": thing.version,
        }
    )


@router.post("/things/{thing_name}")
async def create_thing(
    request: Request,
    thing_name: str,
    caller: Caller,
    svc: Services,
    body: CreateThingBody | None = None,
) -> dict[str, Any]:
    body = body or CreateThingBody()
    attrs = body.attributePayload.attributes if body.attributePayload else {}
    thing = await svc.things.create(caller, check_thing(thing_name), body.thingTypeName, attrs)
    out = _thing_out(request, thing)
    return {"thingName": thing.name, "thingArn": out["thingArn"], "thingId": thing.id}


@router.get("/things/{thing_name}")
async def describe_thing(
    request: Request, thing_name: str, caller: Caller, svc: Services
) -> dict[str, Any]:
    thing = await svc.things.get(caller, check_thing(thing_name))
    return {**_thing_out(request, thing), "thingId": thing.id, "defaultClientId": thing.name}


@router.get("/things")
async def list_things(
    request: Request,
    caller: Caller,
    svc: Services,
    max_results: MaxResults = 100,
    next_token: NextToken = None,
) -> dict[str, Any]:
    things = await svc.things.find(caller, next_token, max_results)
    out: dict[str, Any] = {"things": [_thing_out(request, t) for t in things]}
    if len(things) == max_results:
        out["nextToken"] = things[-1].name
    return out


# thing groups ------------------------------------------------------------------------------
@router.post("/thing-groups/{group_name}")
async def create_group(
    request: Request,
    group_name: str,
    caller: Caller,
    svc: Services,
    body: CreateGroupBody | None = None,
) -> dict[str, Any]:
    props = (body or CreateGroupBody()).thingGroupProperties or GroupProperties()
    attrs = props.attributePayload.attributes if props.attributePayload else {}
    group = await svc.things.create_group(
        caller, check_thing(group_name), props.thingGroupDescription, attrs
    )
    return {
        "thingGroupName": group.name,
        "thingGroupArn": arn(region_of(request), group.tenant_id, "thinggroup", group.name),
        "thingGroupId": group.id,
    }


@router.put("/thing-groups/addThingToThingGroup")
async def add_to_group(body: AddToGroupBody, caller: Caller, svc: Services) -> dict[str, Any]:
    group = body.thingGroupName
    thing = body.thingName
    if group is None and body.thingGroupArn:
        group = parse_targets([body.thingGroupArn])[1][0]
    if thing is None and body.thingArn:
        thing = parse_targets([body.thingArn])[0][0]
    if not group or not thing:
        raise InvalidInput("name a thing group and a thing")
    await svc.things.add_to_group(caller, group, thing)
    return {}


@router.get("/thing-groups/{group_name}")
async def describe_group(
    request: Request, group_name: str, caller: Caller, svc: Services
) -> dict[str, Any]:
    group = await svc.things.get_group(caller, group_name)
    return {
        "thingGroupName": group.name,
        "thingGroupId": group.id,
        "thingGroupArn": arn(region_of(request), group.tenant_id, "thinggroup", group.name),
        "version": group.version,
        "thingGroupProperties": drop_none(
            {
                "thingGroupDescription": group.description,
                "attributePayload": {"attributes": group.attributes},
            }
        ),
        "thingGroupMetadata": {"creationDate": epoch_f(group.created_at)},
    }


@router.get("/thing-groups/{group_name}/things")
async def list_group_things(
    group_name: str,
    caller: Caller,
    svc: Services,
    max_results: MaxResults = 100,
    next_token: NextToken = None,
) -> dict[str, Any]:
    names = await svc.things.members(caller, group_name, next_token, max_results)
    out: dict[str, Any] = {"things": names}
    if len(names) == max_results:
        out["nextToken"] = names[-1]
    return out


# jobs --------------------------------------------------------------------------------------
def _job_arn(request: Request, fleet: FleetJob) -> str:
    return arn(region_of(request), fleet.tenant_id, "job", fleet.name)


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
            "targetSelection": "SNAPSHOT",
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


def _retries(body: CreateJobBody) -> tuple[int, list[dict[str, Any]]]:
    """Jobyard retries failed and timed-out executions alike: the most retries asked for any
    failure type is the number of retries."""
    if body.jobExecutionsRetryConfig is None:
        return 0, []
    criteria = body.jobExecutionsRetryConfig.criteriaList
    for c in criteria:
        if c.failureType not in {"FAILED", "TIMED_OUT", "ALL"}:
            raise InvalidInput(f"unknown retry failure type {c.failureType!r}")
    return max((c.numberOfRetries for c in criteria), default=0), [c.model_dump() for c in criteria]


@router.put("/jobs/{job_id}")
async def create_job(
    request: Request, job_id: str, body: CreateJobBody, caller: Caller, svc: Services
) -> dict[str, Any]:
    things, groups = parse_targets(body.targets)
    retries, retry_criteria = _retries(body)
    for c in body.abortConfig.criteriaList if body.abortConfig else []:
        if c.action != "CANCEL":
            raise InvalidInput(f"unknown abort action {c.action!r}")
    new = NewFleetJob(
        name=check_job_id(job_id),
        things=[],
        targets=body.targets,
        document=document_in(body.document),
        description=body.description,
        timeout_minutes=body.timeoutConfig.inProgressTimeoutInMinutes
        if body.timeoutConfig
        else None,
        rollout_per_minute=body.jobExecutionsRolloutConfig.maximumPerMinute
        if body.jobExecutionsRolloutConfig
        else None,
        abort=[
            AbortCriterion(c.failureType, c.thresholdPercentage, c.minNumberOfExecutedThings)
            for c in (body.abortConfig.criteriaList if body.abortConfig else [])
        ],
        retries=retries,
        retry_criteria=retry_criteria,
    )
    fleet = await svc.fleets.create(caller, new, things, groups)
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
                "targetSelection": "SNAPSHOT",
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
    return drop_none(
        {"jobArn": _job_arn(request, fleet), "jobId": fleet.name, "description": fleet.description}
    )


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
    execution_number: Annotated[int | None, Query(alias="executionNumber")] = None,
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
