"""`POST /flows/{_flowId}/run`: a flow run is a parent `flow` job with one `export` job per
export and one `import` job per import, all on the `celigo` queue for workers to claim.

Jobyard keeps no flow definitions, so the body says what the flow holds (`_exportIds` is
integrator.io's own field for running some exports only; `_importIds` and `_integrationId` are
this face's). `export` (integrator.io's delta window, e.g. `{"startDate": ...}`) is handed to
every job of the run as its params.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, status
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from jobyard.api.deps import App
from jobyard.api.schemas.fields import JsonObject, check_text
from jobyard.domain.entities import NewJob
from jobyard.domain.errors import JobyardError
from jobyard.faces.celigo.auth import Celigo
from jobyard.faces.celigo.errors import CeligoRoute
from jobyard.faces.celigo.ids import ID_LABELS, QUEUE

router = APIRouter(route_class=CeligoRoute)
# Both databases must keep what is sent: no NUL characters, no lone surrogates.
ResourceId = Annotated[
    str, StringConstraints(min_length=1, max_length=200), AfterValidator(check_text)
]


class FlowRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    integration_id: ResourceId | None = Field(default=None, alias="_integrationId")
    export_ids: list[ResourceId] = Field(default_factory=list, alias="_exportIds", max_length=100)
    import_ids: list[ResourceId] = Field(default_factory=list, alias="_importIds", max_length=100)
    export: JsonObject | None = None


def _job(kind: str, labels: dict[str, str], params: dict[str, Any], parent: str | None) -> NewJob:
    # a flow run is not retried on its own: its errors are resolved or retried by people
    return NewJob(
        type=kind, queue=QUEUE, labels=labels, params=params, parent_id=parent, max_attempts=1
    )


@router.post("/flows/{flow_id}/run", status_code=status.HTTP_201_CREATED)
async def run_flow(
    flow_id: ResourceId,
    jy: App,
    caller: Celigo,
    body: Annotated[FlowRunIn | None, Body()] = None,
) -> dict[str, str]:
    ask = body or FlowRunIn()
    labels = {ID_LABELS["_flowId"]: flow_id}
    if ask.integration_id is not None:
        labels[ID_LABELS["_integrationId"]] = ask.integration_id
    params: dict[str, Any] = {"export": ask.export} if ask.export is not None else {}
    ((parent, _),) = await jy.jobs.create(caller, [_job("flow", labels, params, None)])
    children = [
        _job("export", {**labels, ID_LABELS["_exportId"]: e}, params, parent.id)
        for e in ask.export_ids
    ] + [
        _job("import", {**labels, ID_LABELS["_importId"]: i}, params, parent.id)
        for i in ask.import_ids
    ]
    if children:
        try:
            await jy.jobs.create(caller, children)
        except JobyardError:
            # no half-made run: the flow job goes too (it is still queued, so canceled at once)
            now = await jy.store.now()
            await jy.jobs.cancel(caller, parent.id, "its export and import jobs failed", False, now)
            raise
    return {"_jobId": parent.id}
