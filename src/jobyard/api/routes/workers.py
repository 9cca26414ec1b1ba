"""The worker protocol: claims, execution updates, and batches of updates.

`POST /v1/claims`, `PATCH /v1/jobs/{id}/executions/{n}`, `POST /v1/executions/batch`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Query, Request, Response

from jobyard.api.deps import App, Caller
from jobyard.api.json_route import JsonRoute, reading
from jobyard.api.operations import needs
from jobyard.api.preferences import applied, wants_minimal
from jobyard.api.schemas.executions import (
    BatchUpdateIn,
    BatchUpdateOut,
    ClaimIn,
    ClaimOut,
    ExecutionRef,
    KillOrdersOut,
    UpdateIn,
    UpdateOut,
)
from jobyard.api.schemas.update_batches import read_batch
from jobyard.domain.entities import ClaimedExecution, ClaimRequest, WorkerIdentity
from jobyard.service.auth import Principal
from jobyard.service.permissions import Op
from jobyard.service.runtime import Jobyard

router = APIRouter(tags=["workers"], route_class=JsonRoute)
T = TypeVar("T")
Claimed = tuple[list[ClaimedExecution], list[tuple[str, int]]]


async def _claim(
    jy: Jobyard, caller: Principal, request: Request, req: ClaimRequest, wait_s: float
) -> Claimed:
    """A claim; a long-poll (`wait_s` > 0) holds one of the key's long-poll places (429 when it
    has none left) until it answers, fails, or its client hangs up."""
    if not wait_s:
        return await jy.executions.claim(caller, req, 0)
    with jy.limits.poll(caller.key_id):
        answer = await _unless_client_leaves(request, jy.executions.claim(caller, req, wait_s))
    return answer if answer is not None else ([], [])


async def _unless_client_leaves(request: Request, work: Coroutine[Any, Any, T]) -> T | None:
    """`work`'s answer; or None, `work` cancelled, once the client hangs up: no one would read
    the answer, and the wait would hold its place for nothing."""

    async def hung_up() -> None:  # the body is read: what comes next is the disconnect
        while (await request.receive())["type"] != "http.disconnect":
            pass

    waiting, gone = asyncio.ensure_future(work), asyncio.ensure_future(hung_up())
    try:
        await asyncio.wait({waiting, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
        waiting.cancel()  # nothing when it is done
    await asyncio.wait({waiting})  # let it unwind before its place is given back
    return None if waiting.cancelled() else waiting.result()


@router.post("/v1/claims", response_model=ClaimOut, openapi_extra=needs(Op.EXECUTION_CLAIM))
async def claim(body: ClaimIn, jy: App, caller: Caller, request: Request) -> Response:
    """Lease up to `max` executions from `queues`; with `wait_s`, wait for work up to that long.
    With `worker.id`, also answers (and wakes for) kill orders on executions that worker holds."""
    claimed, kills = await _claim(jy, caller, request, body.to_request(), body.wait_s)
    # Written here, as `response_model` describes it (see `update_executions`).
    return Response(ClaimOut.json_of(claimed, kills), media_type="application/json")


@router.get(
    "/v1/workers/{worker_id}/kill-orders",
    response_model=KillOrdersOut,
    openapi_extra=needs(Op.EXECUTION_CLAIM),
)
async def wait_for_kill_orders(
    worker_id: Annotated[str, Path(max_length=200)],
    queues: Annotated[list[str], Query(min_length=1, max_length=100)],
    jy: App,
    caller: Caller,
    request: Request,
    wait_s: Annotated[float, Query(ge=0, le=30)] = 0,
) -> KillOrdersOut:
    """The executions `worker_id` holds whose jobs have a kill order; with `wait_s`, waits until
    a new one is registered (a busy worker's push channel: it needs no renewal to learn it)."""
    req = ClaimRequest(queues=queues, max=0, worker=WorkerIdentity(id=worker_id))
    _, kills = await _claim(jy, caller, request, req, wait_s)
    refs = [ExecutionRef.model_construct(job_id=j, execution_number=n) for j, n in kills]
    return KillOrdersOut.model_construct(cancel_requested=refs)


@router.patch(
    "/v1/jobs/{job_id}/executions/{execution_number}",
    response_model=UpdateOut,
    openapi_extra=needs(Op.EXECUTION_UPDATE),
)
async def update_execution(
    job_id: str,
    execution_number: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: UpdateIn,
    jy: App,
    caller: Caller,
) -> UpdateOut:
    """Report progress or an outcome; renews the lease. 409 with the current state when stale,
    fenced or already terminal."""
    outcome = await jy.executions.update(caller, body.to_update(job_id, execution_number))
    return UpdateOut.of_outcome(outcome)


async def update_executions(
    body: BatchUpdateIn, jy: App, caller: Caller, request: Request
) -> Response:
    """Many updates in one request, each judged on its own. With `Prefer: return=minimal`,
    an update that applied is answered without its execution."""
    updates = body.updates
    outcomes = await jy.executions.update_many(caller, updates)
    minimal = wants_minimal(request)
    # Written here, as `response_model` describes it: FastAPI would validate the answer again
    # and write it through the standard library, for hundreds of results a request.
    answer = Response(
        BatchUpdateOut.json_of(updates, outcomes, minimal), media_type="application/json"
    )
    if minimal:
        applied(answer)
    return answer


# Its body is read straight into the domain's updates when it holds only what workers send.
router.add_api_route(
    "/v1/executions/batch",
    update_executions,
    methods=["POST"],
    response_model=BatchUpdateOut,
    openapi_extra=needs(Op.EXECUTION_UPDATE),
    route_class_override=reading(read_batch),
)
