"""`/healthz` for load balancers and `/metrics` for Prometheus."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from jobyard.api.deps import App, Caller
from jobyard.api.operations import needs
from jobyard.service import metrics as series
from jobyard.service.permissions import Op

router = APIRouter(tags=["health"])


@router.get("/healthz", openapi_extra=needs("public"))
async def healthz(jy: App) -> dict[str, str]:
    """Alive, and the database answers."""
    await jy.store.now()
    return {"status": "ok"}


@router.get("/metrics", response_class=Response, openapi_extra=needs(Op.METRICS_READ))
async def metrics(caller: Caller) -> Response:
    """A tenant admin key reads its tenant's series; the system admin key reads all of them.
    Point Prometheus at it with the key as a bearer token."""
    caller.require(Op.METRICS_READ)
    body = series.exposition(None if caller.is_system else caller.tenant_id)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
