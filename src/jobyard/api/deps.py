"""Request dependencies: the running Jobyard and the calling key."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jobyard.domain.errors import InvalidQuery, Unauthenticated
from jobyard.service import sigv4
from jobyard.service.auth import Credentials, Principal
from jobyard.service.runtime import Jobyard

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer jy_...`")


async def get_jobyard(request: Request) -> Jobyard:  # async: no trip to the threadpool
    jy = request.app.state.jobyard
    assert isinstance(jy, Jobyard)
    return jy


def client_address(request: Request) -> str:
    """The client's address as uvicorn gives it. Behind a reverse proxy, uvicorn puts the
    proxy's X-Forwarded-For there only for proxies its forwarded-allow-ips trusts (the
    FORWARDED_ALLOW_IPS environment variable; loopback by default); otherwise every client
    shares the proxy's address, and with it one failed-authentication budget."""
    return request.client.host if request.client is not None else "unknown"


def _wire(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")  # every byte kept, to be signed as sent


async def signed_request(request: Request) -> sigv4.HttpRequest:
    """The request as it came off the wire, for an AWS Signature V4 check (which covers the
    body: reading it here is fine, Starlette keeps it for the route)."""
    raw_path = request.scope.get("raw_path")
    path = _wire(raw_path) if isinstance(raw_path, bytes) else quote(request.url.path)
    return sigv4.HttpRequest(
        method=request.method,
        path=path,
        query=_wire(request.scope.get("query_string", b"")),
        headers=tuple((_wire(k), _wire(v)) for k, v in request.headers.raw),
        body=await request.body(),
    )


KEY_PARAMS = frozenset({"api_key", "apikey", "key", "token", "access_token", "authorization"})


async def get_principal(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if KEY_PARAMS & {k.lower() for k in request.query_params}:
        # URLs end up in logs, histories and referrers: a key there is a leaked key.
        raise InvalidQuery("send the API key in the Authorization header, never in the URL")
    token: Credentials | None = creds.credentials if creds is not None else None
    if token is None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "key" and value.strip():
            token = value.strip()  # Posit Connect's scheme, for its clients
        elif scheme == sigv4.ALGORITHM:  # an aws-sigv4 key's signature, for AWS's clients
            token = await signed_request(request)
    if token is None:
        raise Unauthenticated("send an API key as `Authorization: Bearer <key>`")
    jy = await get_jobyard(request)
    with jy.limits.authenticating(client_address(request)):  # 429 while it guesses too often
        principal = await jy.auth.authenticate(token)
    jy.limits.request(principal.key_id)  # 429 over the key's request rate
    return principal


App = Annotated[Jobyard, Depends(get_jobyard)]
Caller = Annotated[Principal, Depends(get_principal)]
