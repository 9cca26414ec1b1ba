"""aws-sigv4 keys over real HTTP: requests signed by botocore (AWS's own signer) are accepted;
any signed part changed, an old signature or a revoked key is refused in AWS's error shape."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support.api import JSON, Tenant, create_job, error_of
from tests.support.sigv4 import Signed, sign


def aws_error(r: httpx.Response, code: str) -> str:
    """The message of a refusal in AWS's shape, after checking it is one."""
    assert r.status_code == 403, r.text
    assert r.headers["x-amzn-errortype"] == code
    body = r.json()
    assert list(body) == ["message"], body
    assert isinstance(body["message"], str)
    assert body["message"]
    return body["message"]


def new_sigv4_key(client: httpx.Client, role: str = "admin", **fields: object) -> JSON:
    r = client.post(
        "/v1/keys", json={"name": "device", "role": role, "type": "aws-sigv4", **fields}
    )
    assert r.status_code == 201, r.text
    made: JSON = r.json()
    return made


@pytest.fixture
def key(client: httpx.Client) -> JSON:
    return new_sigv4_key(client)


def test_requests_signed_by_botocore_are_accepted(tenant: Tenant, key: JSON) -> None:
    base = tenant.server.url
    body = json.dumps({"type": "signed.job", "params": {"n": 1}}).encode()
    created = sign(key, f"{base}/v1/jobs", "POST", body).send()
    assert created.status_code == 201, created.text
    job = created.json()
    assert job["owner"] == key["subject"] == key["id"]

    listed = sign(key, f"{base}/v1/jobs?limit=5&type=signed.job").send()
    assert listed.status_code == 200, listed.text
    assert [j["id"] for j in listed.json()["items"]] == [job["id"]]
    one = sign(key, f"{base}/v1/jobs/{job['id']}", service="iot").send()
    assert one.status_code == 200, one.text


def _with(signed: Signed, **headers: str | bytes) -> Signed:
    return replace(signed, headers={**signed.headers, **headers})


def _auth(signed: Signed, change: Callable[[str], str]) -> Signed:
    auth = signed.headers["Authorization"]
    assert isinstance(auth, str)
    return _with(signed, Authorization=change(auth))


def test_any_signed_part_changed_is_refused(
    tenant: Tenant, client: httpx.Client, key: JSON
) -> None:
    base = tenant.server.url
    job = create_job(client)
    body = json.dumps({"type": "t"}).encode()
    post = sign(key, f"{base}/v1/jobs", "POST", body)
    get = sign(key, f"{base}/v1/jobs?limit=5")
    last = str(post.headers["Authorization"])[-1]
    tampered = {
        "method": replace(post, method="GET"),
        "path": replace(get, url=f"{base}/v1/jobs/{job['id']}?limit=5"),
        "query": replace(get, url=f"{base}/v1/jobs?limit=6"),
        "another query parameter": replace(get, url=f"{base}/v1/jobs?limit=5&type=t"),
        "a signed header": _with(post, **{"Content-Type": "application/json; charset=utf-8"}),
        "the body": replace(post, body=json.dumps({"type": "u"}).encode()),
        "the date": _with(get, **{"X-Amz-Date": _later(str(get.headers["X-Amz-Date"]))}),
        "the signature": _auth(post, lambda a: a[:-1] + ("0" if last != "0" else "1")),
        "the scope's region": _auth(post, lambda a: a.replace("/us-east-1/", "/eu-west-1/")),
        "the scope's service": _auth(post, lambda a: a.replace("/iotdata/", "/iot/")),
    }
    for part, request in tampered.items():
        r = request.send()
        assert r.status_code == 403, (part, r.text)
        aws_error(r, "InvalidSignatureException")
    assert [j["id"] for j in client.get("/v1/jobs").json()["items"]] == [job["id"]]


def _later(stamp: str) -> str:
    when = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ") + timedelta(seconds=1)
    return when.strftime("%Y%m%dT%H%M%SZ")


def test_a_request_signed_15_minutes_ago_is_refused(tenant: Tenant, key: JSON) -> None:
    url = f"{tenant.server.url}/v1/jobs"
    old = sign(key, url, at=datetime.now(UTC) - timedelta(minutes=15)).send()
    assert aws_error(old, "InvalidSignatureException").startswith("Signature expired")
    early = sign(key, url, at=datetime.now(UTC) + timedelta(minutes=15)).send()
    assert aws_error(early, "InvalidSignatureException").startswith("Signature not yet current")
    recent = sign(key, url, at=datetime.now(UTC) - timedelta(minutes=3)).send()
    assert recent.status_code == 200, recent.text


def test_revoked_and_unknown_access_keys_are_unrecognized(
    tenant: Tenant, client: httpx.Client, key: JSON
) -> None:
    url = f"{tenant.server.url}/v1/jobs"
    assert sign(key, url).send().status_code == 200
    assert client.delete(f"/v1/keys/{key['id']}").status_code == 200
    aws_error(sign(key, url).send(), "UnrecognizedClientException")
    unknown = {**key, "access_key_id": "JYAK" + "A" * 16}
    aws_error(sign(unknown, url).send(), "UnrecognizedClientException")
    expired = new_sigv4_key(client, expires_at="2001-01-01T00:00:00Z")
    aws_error(sign(expired, url).send(), "UnrecognizedClientException")


def test_api_keys_and_sigv4_secrets_do_not_cross_schemes(
    tenant: Tenant, client: httpx.Client, key: JSON
) -> None:
    url = f"{tenant.server.url}/v1/jobs"
    with tenant.client(key["secret_access_key"]) as bearer:
        assert error_of(bearer.get("/v1/jobs"), 401)["code"] == "unauthenticated"
    with tenant.client(key["access_key_id"]) as bearer:
        assert error_of(bearer.get("/v1/jobs"), 401)["code"] == "unauthenticated"
    api = client.post("/v1/keys", json={"name": "api", "role": "admin"}).json()
    as_sigv4 = {"access_key_id": api["prefix"].replace("_", ""), "secret_access_key": api["key"]}
    aws_error(sign(as_sigv4, url).send(), "UnrecognizedClientException")


def test_malformed_signatures_are_incomplete(tenant: Tenant, key: JSON) -> None:
    url = f"{tenant.server.url}/v1/jobs"
    good = sign(key, url)
    auth = good.headers["Authorization"]
    assert isinstance(auth, str)
    bad: str | bytes
    for bad in (
        auth.split(", Signature=")[0],
        auth.replace("SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date"),
        auth.replace("/aws4_request", "/aws5_request"),
        "AWS4-HMAC-SHA256 Credential=\u00e9\u00e9".encode(),
    ):
        r = _with(good, Authorization=bad).send()
        aws_error(r, "IncompleteSignatureException")
    bare = _with(good, Authorization="AWS4-HMAC-SHA256").send()
    aws_error(bare, "MissingAuthenticationTokenException")
    no_date = {k: v for k, v in good.headers.items() if k != "X-Amz-Date"}
    aws_error(replace(good, headers=no_date).send(), "IncompleteSignatureException")


def test_a_sigv4_key_has_its_roles_limits(tenant: Tenant, client: httpx.Client) -> None:
    viewer = new_sigv4_key(client, role="viewer")
    base = tenant.server.url
    assert sign(viewer, f"{base}/v1/jobs").send().status_code == 200
    body = json.dumps({"type": "t"}).encode()
    denied = sign(viewer, f"{base}/v1/jobs", "POST", body).send()
    assert error_of(denied, 403)["code"] == "forbidden"
