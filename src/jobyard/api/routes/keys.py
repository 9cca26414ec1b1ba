"""`/v1/keys` and `/v1/signing-keys` (tenant admins) and `/v1/tenants` (the system admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, status

from jobyard.api.deps import App, Caller
from jobyard.api.operations import needs
from jobyard.api.schemas.keys import (
    KeyCreated,
    KeyIn,
    KeyList,
    KeyOut,
    KeyRotated,
    KeyRotateIn,
    SigningKeyRotated,
    TenantCreated,
    TenantIn,
    TenantList,
    TenantOut,
)
from jobyard.service.permissions import Op, Role

router = APIRouter(tags=["keys"])
KEY_MANAGE = needs(Op.KEY_MANAGE)
TENANT_MANAGE = needs(Op.TENANT_MANAGE)


@router.post(
    "/v1/keys",
    status_code=status.HTTP_201_CREATED,
    response_model=KeyCreated,
    openapi_extra=KEY_MANAGE,
)
async def create_key(body: KeyIn, jy: App, caller: Caller) -> KeyCreated:
    """The answer holds the secret, once (`key`, or `secret_access_key` for an aws-sigv4 key);
    the server keeps its hash (and an aws-sigv4 secret sealed under the server key)."""
    caller.require(Op.KEY_MANAGE)
    key, secret = await jy.auth.create_key(
        caller.tenant_id,
        body.name,
        Role(body.role),
        queues=body.queues,
        things=body.things,
        expires_at=body.expires_at,
        key_type=body.type,
    )
    return KeyCreated.made(key, secret)


@router.get("/v1/keys", response_model=KeyList, openapi_extra=KEY_MANAGE)
async def list_keys(jy: App, caller: Caller) -> KeyList:
    return KeyList(items=[KeyOut.of(k) for k in await jy.auth.list_keys(caller)])


@router.delete("/v1/keys/{key_id}", response_model=KeyOut, openapi_extra=KEY_MANAGE)
async def revoke_key(key_id: str, jy: App, caller: Caller) -> KeyOut:
    """Revoked keys fail from the next request on."""
    return KeyOut.of(await jy.auth.revoke_key(caller, key_id))


@router.post(
    "/v1/keys/{key_id}/rotate",
    status_code=status.HTTP_201_CREATED,
    response_model=KeyRotated,
    openapi_extra=KEY_MANAGE,
)
async def rotate_key(
    key_id: str, jy: App, caller: Caller, body: Annotated[KeyRotateIn | None, Body()] = None
) -> KeyRotated:
    """A new key of the same type, name, role, queues, things and subject (so it keeps the
    jobs), answered as a creation is. Both keys stay live unless `revoke_old_in_s` is given."""
    ask = body or KeyRotateIn()
    new, secret, old = await jy.auth.rotate_key(
        caller, key_id, revoke_old_in_s=ask.revoke_old_in_s, expires_at=ask.expires_at
    )
    made = KeyCreated.made(new, secret)
    return KeyRotated(**made.model_dump(), old_key=KeyOut.of(old))


@router.post("/v1/signing-keys/rotate", response_model=SigningKeyRotated, openapi_extra=KEY_MANAGE)
async def rotate_signing_key(jy: App, caller: Caller) -> SigningKeyRotated:
    """Retire the tenant's URL-signing keys for a new one: every signed URL given out so far
    stops working (403); URLs signed from now on work."""
    rotated = await jy.signer.rotate(caller)
    return SigningKeyRotated(id=rotated.id, retired=rotated.retired)


@router.post(
    "/v1/tenants",
    status_code=status.HTTP_201_CREATED,
    response_model=TenantCreated,
    openapi_extra=TENANT_MANAGE,
)
async def create_tenant(body: TenantIn, jy: App, caller: Caller) -> TenantCreated:
    tenant, token = await jy.tenants.create(caller, body.name)
    return TenantCreated(**TenantOut.of(tenant).model_dump(), admin_key=token)


@router.get("/v1/tenants", response_model=TenantList, openapi_extra=TENANT_MANAGE)
async def list_tenants(jy: App, caller: Caller) -> TenantList:
    return TenantList(items=[TenantOut.of(t) for t in await jy.tenants.list(caller)])
