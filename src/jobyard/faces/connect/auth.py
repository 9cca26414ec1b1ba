"""Posit Connect's authentication: `Authorization: Key <api key>`, with Jobyard's API keys.

The same checks as the native API: the failed-authentication budget per client address, the
request rate per key, and no key in the URL.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from jobyard.api.deps import KEY_PARAMS, client_address, get_jobyard
from jobyard.domain.errors import InvalidQuery, Unauthenticated
from jobyard.service.auth import Principal
from jobyard.service.runtime import Jobyard


def _key(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() in ("key", "bearer") and value.strip():
        return value.strip()
    return None


async def connect_principal(request: Request) -> Principal:
    if KEY_PARAMS & {k.lower() for k in request.query_params}:
        raise InvalidQuery("send the API key in the Authorization header, never in the URL")
    key = _key(request)
    if key is None:
        raise Unauthenticated("The requested operation requires authentication.")
    jy = await get_jobyard(request)
    with jy.limits.authenticating(client_address(request)):
        principal = await jy.auth.authenticate(key)
    jy.limits.request(principal.key_id)
    return principal


App = Annotated[Jobyard, Depends(get_jobyard)]
Caller = Annotated[Principal, Depends(connect_principal)]
