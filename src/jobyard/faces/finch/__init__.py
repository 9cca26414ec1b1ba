"""Finch's automated and manual jobs API, under /finch (see docs/faces/finch.md)."""

from __future__ import annotations

from fastapi import APIRouter

from jobyard.faces.finch import routes
from jobyard.faces.finch.errors import FinchRoute
from jobyard.faces.routing import answer_the_rest

router = APIRouter(prefix="/finch", include_in_schema=False, route_class=FinchRoute)
router.include_router(routes.router)
answer_the_rest(router, routes.router)  # the rest of Finch's API: 404 (or 405) in its shape

__all__ = ["router"]
