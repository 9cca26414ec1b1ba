"""`/v1/me`: who the calling key is, for clients, tools and sharing jobs."""

from __future__ import annotations

from fastapi import APIRouter

from jobyard.api.deps import Caller
from jobyard.api.operations import needs
from jobyard.api.schemas.identity import MeOut

router = APIRouter(tags=["keys"])


@router.get("/v1/me", response_model=MeOut, openapi_extra=needs("any-key"))
async def whoami(caller: Caller) -> MeOut:
    """The calling key: its tenant, role, limits, and the subject its jobs are owned by."""
    return MeOut(
        tenant_id=caller.tenant_id,
        key_id=caller.key_id,
        role=caller.role.value,
        subject=caller.owner,
        system=caller.is_system,
        queues=list(caller.queues) if caller.queues is not None else None,
        things=list(caller.things) if caller.things is not None else None,
    )
