"""Request dependencies: the running Jobyard and the calling key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jobyard.domain.errors import Unauthenticated
from jobyard.service.auth import Principal
from jobyard.service.runtime import Jobyard

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer jy_...`")


async def get_jobyard(request: Request) -> Jobyard:  # async: no trip to the threadpool
    jy = request.app.state.jobyard
    assert isinstance(jy, Jobyard)
    return jy


async def get_principal(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if creds is None or creds.scheme.lower() != "bearer":
        raise Unauthenticated("send an API key as `Authorization: Bearer <key>`")
    return await (await get_jobyard(request)).auth.authenticate(creds.credentials)


App = Annotated[Jobyard, Depends(get_jobyard)]
Caller = Annotated[Principal, Depends(get_principal)]
