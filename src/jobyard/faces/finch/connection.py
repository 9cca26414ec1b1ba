"""Who is calling: the `Finch-API-Version` header, then the bearer access token.

The access token is a Jobyard API key. Finch scopes an access token to one connection (an
employer's account); here the connection is the key's subject, so every key that rotates it
keeps the same connection, its jobs and its quota.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import Depends, Header, Request

from jobyard.api.deps import KEY_PARAMS, client_address, get_jobyard
from jobyard.domain.errors import InvalidQuery, Unauthenticated
from jobyard.service.auth import Principal

API_VERSION = "2020-09-17"  # the only version Finch documents, and its default
_DATE = re.compile(r"[12]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")


async def api_version(
    finch_api_version: Annotated[str | None, Header(alias="Finch-API-Version")] = None,
) -> str:
    """The version asked for; every well-formed date is served as the one version there is."""
    if finch_api_version is None:
        return API_VERSION
    value = finch_api_version.strip()
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        date.fromisoformat(value)
    except ValueError:
        raise InvalidQuery(
            f"Finch-API-Version must be a date such as {API_VERSION}", field="Finch-API-Version"
        ) from None
    return API_VERSION


async def connection(request: Request, _version: Annotated[str, Depends(api_version)]) -> Principal:
    if KEY_PARAMS & {k.lower() for k in request.query_params}:
        raise InvalidQuery("send the access token in the Authorization header, never in the URL")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send the access token as `Authorization: Bearer <token>`")
    jy = await get_jobyard(request)
    with jy.limits.authenticating(client_address(request)):  # 429 while it guesses too often
        principal = await jy.auth.authenticate(token.strip())
    jy.limits.request(principal.key_id)  # 429 over the key's request rate
    return principal


Connection = Annotated[Principal, Depends(connection)]
