"""Celigo integrator.io's job API, under /celigo/v1 (see docs/faces/celigo.md)."""

from __future__ import annotations

from fastapi import APIRouter

from jobyard.faces.celigo import flows, routes
from jobyard.faces.celigo.errors import CeligoRoute
from jobyard.faces.routing import answer_the_rest

router = APIRouter(prefix="/celigo/v1", include_in_schema=False, route_class=CeligoRoute)
router.include_router(routes.router)
router.include_router(flows.router)
# the rest of integrator.io's API: 404 (or 405) in its error shape
answer_the_rest(router, routes.router, flows.router)

__all__ = ["router"]
