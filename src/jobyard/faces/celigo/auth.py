"""integrator.io's scheme: `Authorization: Bearer <API token>`, here a Jobyard API key, checked
by the same plumbing as the native API (failed-authentication budget, request rate)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jobyard.api.deps import KEY_PARAMS, client_address, get_jobyard
from jobyard.domain.errors import InvalidQuery, Unauthenticated
from jobyard.service.auth import Principal

_bearer = HTTPBearer(auto_error=False)


async def celigo_principal(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if KEY_PARAMS & {k.lower() for k in request.query_params}:
        raise InvalidQuery("send the API token in the Authorization header, never in the URL")
    if creds is None or not creds.credentials:
        raise Unauthenticated("send an API token as `Authorization: Bearer <token>`")
    jy = await get_jobyard(request)
    with jy.limits.authenticating(client_address(request)):
        principal = await jy.auth.authenticate(creds.credentials)
    jy.limits.request(principal.key_id)
    return principal


Celigo = Annotated[Principal, Depends(celigo_principal)]
