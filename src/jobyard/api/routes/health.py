"""`/healthz` for load balancers and `/metrics` for Prometheus."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from jobyard.api.deps import App

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(jy: App) -> dict[str, str]:
    """Alive, and the database answers."""
    await jy.store.now()
    return {"status": "ok"}


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
