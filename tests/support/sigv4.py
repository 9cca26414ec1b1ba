"""Requests signed with AWS Signature V4 by botocore, AWS's own signer, for aws-sigv4 keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


@dataclass(frozen=True)
class Signed:
    """A request signed by botocore, ready to send (or to tamper with first)."""

    method: str
    url: str
    headers: dict[str, str | bytes]
    body: bytes = b""

    def send(self) -> httpx.Response:
        headers = [
            (k.encode(), v if isinstance(v, bytes) else v.encode()) for k, v in self.headers.items()
        ]
        return httpx.request(self.method, self.url, headers=headers, content=self.body, timeout=30)


def sign(
    key: dict[str, Any],
    url: str,
    method: str = "GET",
    body: bytes = b"",
    at: datetime | None = None,
    service: str = "iotdata",
) -> Signed:
    headers = {"Content-Type": "application/json"} if body else {}
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    credentials = Credentials(key["access_key_id"], key["secret_access_key"])
    signer = SigV4Auth(credentials, service, "us-east-1")
    if at is None:
        signer.add_auth(request)
    else:  # botocore takes the time from this function; a test may move its clock
        clock = at.astimezone(UTC).replace(tzinfo=None)
        with mock.patch("botocore.auth.get_current_datetime", return_value=clock):
            signer.add_auth(request)
    sent: dict[str, str | bytes] = {k: str(v) for k, v in request.headers.items()}
    return Signed(method, url, sent, body)
