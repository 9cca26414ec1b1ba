"""Basiq's authentication: an API key sent as HTTP Basic buys a Bearer access token.

`POST /token` takes `Authorization: Basic <key>`, where the key is a Jobyard API key, sent as
Basiq's SDKs send theirs (as it is), or base64 of `<anything>:<key>` / `<key>:` as a generic
HTTP Basic client sends it. The token is sealed under the server key and names its key
(`jobyard.service.access_tokens`); it ends after `expires_in` seconds or with its key. Every
other route takes `Authorization: Bearer <access token>` (a Jobyard API key is taken too).
Failures go through the same limits as the native API's keys.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from jobyard.api.deps import KEY_PARAMS, client_address, get_jobyard
from jobyard.domain.errors import InvalidQuery, Unauthenticated
from jobyard.faces.basiq.errors import BasiqError, TokenRefused, missing
from jobyard.service.access_tokens import DEFAULT_TTL_S, AccessTokens, is_access_token
from jobyard.service.auth import Principal

VERSION = re.compile(r"^[1-3]\.\d{1,2}$")  # Basiq's API versions; the SDK sends 1.0 or 2.0
MAX_HEADER = 4096


def _refuse_key_in_url(request: Request) -> None:
    if KEY_PARAMS & {k.lower() for k in request.query_params}:
        raise InvalidQuery("send credentials in the Authorization header, never in the URL")


def _basic_key(value: str) -> str:
    """The API key inside a Basic credential: as it is, or base64 of `user:password`."""
    if value.startswith("jy_") or len(value) > MAX_HEADER:
        return value
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return value
    if ":" not in decoded:
        return value
    user, _, password = decoded.partition(":")
    return password or user


async def issue_token(request: Request) -> dict[str, object]:
    _refuse_key_in_url(request)
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if not scheme:
        raise missing("Authorization header parameter is required.", parameter="Authorization")
    if scheme.lower() != "basic" or not value.strip():
        raise BasiqError("Invalid authorization header.", parameter="Authorization")
    version = request.headers.get("basiq-version")
    if version is None:
        raise missing(
            "basiq-version must be specified in HTTP request header.", parameter="basiq-version"
        )
    if not VERSION.match(version.strip()):
        raise BasiqError(f"Version {version[:20]} is not supported.", parameter="basiq-version")
    jy = await get_jobyard(request)
    try:
        with jy.limits.authenticating(client_address(request)):
            principal = await jy.auth.authenticate(_basic_key(value.strip()))
    except Unauthenticated:
        raise TokenRefused() from None
    jy.limits.request(principal.key_id)
    now = datetime.now(UTC)
    token = AccessTokens(jy.secret_box, jy.auth).issue(principal, now, DEFAULT_TTL_S)
    return {"access_token": token, "token_type": "Bearer", "expires_in": DEFAULT_TTL_S}


async def get_caller(request: Request) -> Principal:
    _refuse_key_in_url(request)
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    token = value.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("Invalid authorization token.")
    jy = await get_jobyard(request)
    with jy.limits.authenticating(client_address(request)):
        if is_access_token(token):
            tokens = AccessTokens(jy.secret_box, jy.auth)
            principal = await tokens.authenticate(token, datetime.now(UTC))
        else:
            principal = await jy.auth.authenticate(token)
    jy.limits.request(principal.key_id)
    return principal


Caller = Annotated[Principal, Depends(get_caller)]
