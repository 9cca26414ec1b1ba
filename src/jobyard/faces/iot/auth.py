"""Who is calling: an aws-sigv4 key's AWS Signature V4, checked as the native API checks it
(same failed-authentication budget, same per-key request rate)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from jobyard.api.deps import client_address, get_jobyard, signed_request
from jobyard.domain.errors import AwsAuthError
from jobyard.service import sigv4
from jobyard.service.auth import Principal


async def aws_principal(request: Request) -> Principal:
    scheme = request.headers.get("authorization", "").partition(" ")[0]
    if scheme != sigv4.ALGORITHM:
        raise AwsAuthError(sigv4.MISSING, "Missing Authentication Token")
    token = await signed_request(request)
    jy = await get_jobyard(request)
    with jy.limits.authenticating(client_address(request)):
        principal = await jy.auth.authenticate(token)
    jy.limits.request(principal.key_id)
    return principal


def region_of(request: Request) -> str:
    """The region the caller signed for (its credential scope), for the ARNs we answer."""
    auth = request.headers.get("authorization", "")
    _, _, rest = auth.partition("Credential=")
    parts = rest.split(",", 1)[0].split("/")
    return parts[2] if len(parts) >= 5 and parts[2] else "us-east-1"


Caller = Annotated[Principal, Depends(aws_principal)]
