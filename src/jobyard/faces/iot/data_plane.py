"""The jobs data plane, as a device calls it: `/iot/data/things/{thingName}/jobs...`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from jobyard.api.schemas.fields import INT32_MAX
from jobyard.faces.iot.auth import Caller
from jobyard.faces.iot.errors import render
from jobyard.faces.iot.services import IotServices, iot_services
from jobyard.faces.iot.wire import (
    check_thing,
    data_execution,
    data_summary,
    document_text,
    execution_state,
    status_in,
)
from jobyard.faces.routing import face_route
from jobyard.service.thing_jobs import NEXT, Report

router = APIRouter(route_class=face_route(render))
Services = Annotated[IotServices, Depends(iot_services)]


class StartNextBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    statusDetails: dict[str, str] | None = None
    stepTimeoutInMinutes: int | None = None


class UpdateBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: str
    statusDetails: dict[str, str] | None = None
    stepTimeoutInMinutes: int | None = None
    expectedVersion: int | None = Field(None, ge=0, le=INT32_MAX)
    includeJobExecutionState: bool = False
    includeJobDocument: bool = False
    executionNumber: int | None = Field(None, ge=1, le=INT32_MAX)


@router.get("/things/{thing_name}/jobs")
async def get_pending(thing_name: str, caller: Caller, svc: Services) -> dict[str, Any]:
    running, queued = await svc.thing_jobs.pending(caller, check_thing(thing_name))
    return {
        "inProgressJobs": [data_summary(te) for te in running],
        "queuedJobs": [data_summary(te) for te in queued],
    }


@router.put("/things/{thing_name}/jobs/$next")
async def start_next(
    thing_name: str, caller: Caller, svc: Services, body: StartNextBody | None = None
) -> dict[str, Any]:
    body = body or StartNextBody()
    thing = check_thing(thing_name)
    te = await svc.thing_jobs.start_next(
        caller, thing, body.statusDetails, body.stepTimeoutInMinutes
    )
    if te is None:
        return {}
    now = await svc.fleets.store.now()
    return {"execution": data_execution(te, thing, now, with_document=True)}


@router.get("/things/{thing_name}/jobs/{job_id}")
async def describe(
    thing_name: str,
    job_id: str,
    caller: Caller,
    svc: Services,
    include_document: Annotated[bool, Query(alias="includeJobDocument")] = False,
    execution_number: Annotated[
        int | None, Query(alias="executionNumber", ge=1, le=INT32_MAX)
    ] = None,
) -> dict[str, Any]:
    thing = check_thing(thing_name)
    te = await svc.thing_jobs.describe(caller, thing, job_id, execution_number)
    now = await svc.fleets.store.now()
    return {"execution": data_execution(te, thing, now, include_document)}


@router.post("/things/{thing_name}/jobs/{job_id}")
async def update(
    thing_name: str, job_id: str, body: UpdateBody, caller: Caller, svc: Services
) -> dict[str, Any]:
    thing = check_thing(thing_name)
    report = Report(
        status=status_in(body.status),
        status_details=body.statusDetails,
        expected_version=body.expectedVersion,
        step_timeout_minutes=body.stepTimeoutInMinutes,
        execution_number=body.executionNumber,
    )
    name = (
        job_id if job_id != NEXT else (await svc.thing_jobs.describe(caller, thing, NEXT)).job_name
    )
    te = await svc.thing_jobs.update(caller, thing, name, report)
    out: dict[str, Any] = {}
    if body.includeJobExecutionState:
        out["executionState"] = execution_state(te.execution)
    if body.includeJobDocument and te.document is not None:
        out["jobDocument"] = document_text(te.document)
    return out
