"""The AWS Signature V4 checker, as pure functions: AWS's published example, requests signed by
botocore (AWS's own signer) and every way of getting one wrong."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from unittest import mock
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from jobyard.domain.errors import AwsAuthError
from jobyard.service import sigv4
from jobyard.service.sigv4 import HttpRequest

# The example of AWS's SigV4 documentation: an IAM ListUsers call at 2015-08-30T12:36:00Z.
EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
EXAMPLE_SIGNATURE = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
EXAMPLE_TIME = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)
SECRET = "s" * 40
NOW = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def example() -> HttpRequest:
    auth = (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
        f"SignedHeaders=content-type;host;x-amz-date, Signature={EXAMPLE_SIGNATURE}"
    )
    return HttpRequest(
        method="GET",
        path="/",
        query="Action=ListUsers&Version=2010-05-08",
        headers=(
            ("Host", "iam.amazonaws.com"),
            ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
            ("X-Amz-Date", "20150830T123600Z"),
            ("Authorization", auth),
        ),
        body=b"",
    )


def check(request: HttpRequest, secret: str = SECRET, now: datetime = NOW) -> None:
    auth = sigv4.parse_authorization(request.values("authorization")[0])
    sigv4.verify(request, auth, secret, now)


def refused(code: str, request: HttpRequest, **kw: object) -> str:
    with pytest.raises(AwsAuthError) as caught:
        check(request, **kw)  # type: ignore[arg-type]
    assert caught.value.aws_code == code, caught.value.message
    return caught.value.message


def test_the_example_of_the_specification_is_accepted() -> None:
    check(example(), EXAMPLE_SECRET, EXAMPLE_TIME + timedelta(minutes=2))
    assert "InvalidSignature" in sigv4.INVALID
    refused(sigv4.INVALID, example(), secret=EXAMPLE_SECRET[:-1] + "X", now=EXAMPLE_TIME)


def botocore_signed(
    method: str = "POST",
    url: str = "http://127.0.0.1:8080/v1/jobs?b=2&a=x%2Fy&a=1",
    body: bytes = b'{"type": "t"}',
    headers: dict[str, str] | None = None,
    at: datetime = NOW,
    service: str = "iotdata",
) -> HttpRequest:
    """A request signed by botocore, as the server would receive it."""
    sent = {"Content-Type": "application/json", **(headers or {})}
    aws = AWSRequest(method=method, url=url, data=body, headers=sent)
    with mock.patch("botocore.auth.get_current_datetime", return_value=at.replace(tzinfo=None)):
        SigV4Auth(Credentials("JYAKAAAAAAAAAAAAAAAA", SECRET), service, "us-east-1").add_auth(aws)
    parts = urlsplit(url)
    wire = [("host", parts.netloc), *((k, str(v)) for k, v in aws.headers.items())]
    return HttpRequest(method, parts.path, parts.query, tuple(wire), body)


def test_requests_signed_by_botocore_are_accepted() -> None:
    check(botocore_signed())
    check(botocore_signed("GET", "http://127.0.0.1:8080/v1/jobs", b""))
    check(botocore_signed("GET", "http://h:1/v1/jobs/a%20b/c?x=~&e=&d=%3A", b"", service="iot"))
    check(botocore_signed(headers={"X-Custom": "  many   spaces  "}))
    check(botocore_signed(at=NOW - timedelta(minutes=4)))


def _header(request: HttpRequest, name: str, value: str) -> HttpRequest:
    kept = tuple((k, v) for k, v in request.headers if k.lower() != name)
    return replace(request, headers=(*kept, (name, value)))


def _resigned_auth(request: HttpRequest, change: Callable[[str], str]) -> HttpRequest:
    return _header(request, "authorization", change(request.values("authorization")[0]))


TAMPERED: dict[str, Callable[[HttpRequest], HttpRequest]] = {
    "method": lambda r: replace(r, method="PUT"),
    "path": lambda r: replace(r, path="/v1/jobz"),
    "query": lambda r: replace(r, query=r.query + "&c=3"),
    "query value": lambda r: replace(r, query=r.query.replace("b=2", "b=3")),
    "a signed header": lambda r: _header(r, "content-type", "text/plain"),
    "host": lambda r: _header(r, "host", "evil.example"),
    "body": lambda r: replace(r, body=r.body + b" "),
    "date": lambda r: _header(r, "x-amz-date", "20240501T100001Z"),
    "signature": lambda r: _resigned_auth(r, lambda a: a[:-1] + ("0" if a[-1] != "0" else "1")),
    "region": lambda r: _resigned_auth(r, lambda a: a.replace("us-east-1", "eu-west-1")),
    "service": lambda r: _resigned_auth(r, lambda a: a.replace("/iotdata/", "/iot/")),
}


@pytest.mark.parametrize("part", TAMPERED)
def test_any_signed_part_changed_is_refused(part: str) -> None:
    refused(sigv4.INVALID, TAMPERED[part](botocore_signed()))


def test_an_unsigned_header_may_change() -> None:
    check(_header(botocore_signed(), "user-agent", "something else"))


def test_a_signature_outside_five_minutes_is_refused() -> None:
    old = refused(sigv4.INVALID, botocore_signed(at=NOW - timedelta(minutes=15)))
    assert old.startswith("Signature expired")
    early = refused(sigv4.INVALID, botocore_signed(at=NOW + timedelta(minutes=15)))
    assert early.startswith("Signature not yet current")


def test_the_date_header_serves_when_there_is_no_x_amz_date() -> None:
    signed = botocore_signed(headers={"Date": "Wed, 01 May 2024 10:00:00 GMT"})
    assert not signed.values("x-amz-date")
    check(signed)
    later = _header(signed, "date", "Wed, 01 May 2024 10:00:01 GMT")
    refused(sigv4.INVALID, later)


def test_the_payload_hash_header_must_be_the_bodys() -> None:
    body = b'{"type": "t"}'
    digest = hashlib.sha256(body).hexdigest()
    check(botocore_signed(body=body, headers={"X-Amz-Content-SHA256": digest}))
    lying = botocore_signed(body=b"{}", headers={"X-Amz-Content-SHA256": digest})
    assert "x-amz-content-sha256" in refused(sigv4.INVALID, lying)
    unsigned = botocore_signed(headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    refused(sigv4.INVALID, unsigned)


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        ("AWS4-HMAC-SHA256", sigv4.MISSING),
        ("AWS4-HMAC-SHA256 ", sigv4.MISSING),
        ("AWS4-HMAC-SHA256 Credential=A/20240501/us-east-1/iot/aws4_request", sigv4.INCOMPLETE),
        (
            "AWS4-HMAC-SHA256 Credential=A/20240501/us-east-1/iot/aws4_request, "
            "SignedHeaders=x-amz-date, Signature=" + "0" * 64,
            sigv4.INCOMPLETE,  # host not signed
        ),
        (
            "AWS4-HMAC-SHA256 Credential=A/2024-05-01/us-east-1/iot/aws4_request, "
            "SignedHeaders=host, Signature=" + "0" * 64,
            sigv4.INCOMPLETE,
        ),
        (
            "AWS4-HMAC-SHA256 Credential=A/20240501/us-east-1/iot/aws5_request, "
            "SignedHeaders=host, Signature=" + "0" * 64,
            sigv4.INCOMPLETE,
        ),
        (
            "AWS4-HMAC-SHA256 Credential=A/20240501/us-east-1/iot/aws4_request, "
            "SignedHeaders=host, Signature=xyz",
            sigv4.INCOMPLETE,
        ),
        (
            "AWS4-HMAC-SHA256 Credential=A/20240501/us-east-1/iot/aws4_request, "
            "SignedHeaders=host, SignedHeaders=host, Signature=" + "0" * 64,
            sigv4.INCOMPLETE,
        ),
        ("AWS4-HMAC-SHA256 Credential", sigv4.INCOMPLETE),
        ("AWS4-HMAC-SHA256 Credential=é/\x00, SignedHeaders=;, Signature=", sigv4.INCOMPLETE),
    ],
)
def test_malformed_authorization_headers(authorization: str, code: str) -> None:
    with pytest.raises(AwsAuthError) as caught:
        sigv4.parse_authorization(authorization)
    assert caught.value.aws_code == code


def test_malformed_dates_are_incomplete() -> None:
    for stamp in ("2024-05-01T10:00:00Z", "20241301T100000Z", ""):
        refused(sigv4.INCOMPLETE, _header(botocore_signed(), "x-amz-date", stamp))
    signed = botocore_signed(headers={"Date": "Wed, 01 May 2024 10:00:00 GMT"})
    refused(sigv4.INCOMPLETE, _header(signed, "date", "yesterday"))


def test_a_signed_header_missing_from_the_request_is_refused() -> None:
    signed = botocore_signed(headers={"X-Custom": "1"})
    gone = replace(signed, headers=tuple(h for h in signed.headers if h[0] != "X-Custom"))
    assert "x-custom" in refused(sigv4.INVALID, gone)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("", "/"),
        ("/", "/"),
        ("/v1/jobs", "/v1/jobs"),
        ("/a/./b/../c//d", "/a/c/d"),
        ("/a/b/", "/a/b/"),
        ("/../..", "/"),
        ("/v1/jobs/a%20b", "/v1/jobs/a%2520b"),
        ("/x~y_z-1.2", "/x~y_z-1.2"),
        ("/caf\u00e9", "/caf%C3%A9"),
    ],
)
def test_canonical_paths(raw: str, canonical: str) -> None:
    assert sigv4.canonical_path(raw) == canonical


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("", ""),
        ("b=2&a=1&a=0", "a=0&a=1&b=2"),
        ("x=a%20b", "x=a%20b"),
        ("x=a+b", "x=a%2Bb"),
        ("flag&x=", "flag=&x="),
        ("t=2024-01-01T00:00:00Z", "t=2024-01-01T00%3A00%3A00Z"),
        ("k=%7e", "k=~"),
        ("a=1&&b=2", "a=1&b=2"),
    ],
)
def test_canonical_queries(raw: str, canonical: str) -> None:
    assert sigv4.canonical_query(raw) == canonical
