"""Request dependencies: the running Jobyard and the calling key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jobyard.domain.errors import InvalidQuery, Unauthenticated
from jobyard.service.auth import Principal
from jobyard.service.runtime import Jobyard

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer jy_...`")


async def get_jobyard(request: Request) -> Jobyard:  # async: no trip to the threadpool
    jy = request.app.state.jobyard
    assert isinstance(jy, Jobyard)
    return jy


KEY_PARAMS = frozenset({"api_key", "apikey", "key", "token", "access_token", "authorization"})


async def get_principal(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if KEY_PARAMS & {k.lower() for k in request.query_params}:
        # URLs end up in logs, histories and referrers: a key there is a leaked key.
        raise InvalidQuery("send the API key in the Authorization header, never in the URL")
    token = creds.credentials if creds is not None else None
    if token is None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "key" and value.strip():
            token = value.strip()  # Posit Connect's scheme, for its clients
    if token is None:
        raise Unauthenticated("send an API key as `Authorization: Bearer <key>`")
    return await (await get_jobyard(request)).auth.authenticate(token)


App = Annotated[Jobyard, Depends(get_jobyard)]
Caller = Annotated[Principal, Depends(get_principal)]
