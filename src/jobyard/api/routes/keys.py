"""`/v1/keys` (tenant admins) and `/v1/tenants` (the system admin)."""

from __future__ import annotations

from fastapi import APIRouter, status

from jobyard.api.deps import App, Caller
from jobyard.api.schemas.keys import (
    KeyCreated,
    KeyIn,
    KeyList,
    KeyOut,
    TenantCreated,
    TenantIn,
    TenantList,
    TenantOut,
)
from jobyard.service.permissions import Op, Role

router = APIRouter(tags=["keys"])


@router.post("/v1/keys", status_code=status.HTTP_201_CREATED, response_model=KeyCreated)
async def create_key(body: KeyIn, jy: App, caller: Caller) -> KeyCreated:
    """The answer holds the key itself, once; only its hash is kept."""
    caller.require(Op.KEY_MANAGE)
    key, token = await jy.auth.create_key(
        caller.tenant_id, body.name, Role(body.role), queues=body.queues, expires_at=body.expires_at
    )
    return KeyCreated(**KeyOut.of(key).model_dump(), key=token)


@router.get("/v1/keys", response_model=KeyList)
async def list_keys(jy: App, caller: Caller) -> KeyList:
    return KeyList(items=[KeyOut.of(k) for k in await jy.auth.list_keys(caller)])


@router.delete("/v1/keys/{key_id}", response_model=KeyOut)
async def revoke_key(key_id: str, jy: App, caller: Caller) -> KeyOut:
    """Revoked keys fail from the next request on."""
    return KeyOut.of(await jy.auth.revoke_key(caller, key_id))


@router.post("/v1/tenants", status_code=status.HTTP_201_CREATED, response_model=TenantCreated)
async def create_tenant(body: TenantIn, jy: App, caller: Caller) -> TenantCreated:
    tenant, token = await jy.tenants.create(caller, body.name)
    return TenantCreated(**TenantOut.of(tenant).model_dump(), admin_key=token)


@router.get("/v1/tenants", response_model=TenantList)
async def list_tenants(jy: App, caller: Caller) -> TenantList:
    return TenantList(items=[TenantOut.of(t) for t in await jy.tenants.list(caller)])
