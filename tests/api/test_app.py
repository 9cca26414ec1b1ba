"""The application as a whole: its OpenAPI document describes the native API, and every answer
carries the security headers."""

from __future__ import annotations

import json

import httpx

from tests.support.api import Tenant
from tests.support.server import Server


def test_openapi_lists_the_native_api(live_server: Server) -> None:
    r = httpx.get(live_server.url + "/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path, method in (
        ("/v1/jobs", "post"),
        ("/v1/jobs", "get"),
        ("/v1/jobs/batch", "post"),
        ("/v1/jobs/{job_id}", "get"),
        ("/v1/jobs/{job_id}/cancel", "post"),
        ("/v1/jobs/{job_id}/retry", "post"),
        ("/v1/jobs/{job_id}/executions", "get"),
        ("/v1/claims", "post"),
        ("/v1/jobs/{job_id}/executions/{execution_number}", "patch"),
        ("/v1/executions/batch", "post"),
        ("/v1/keys", "post"),
        ("/v1/tenants", "post"),
    ):
        assert method in paths.get(path, {}), (method, path)


def test_openapi_describes_only_what_requests_and_answers_carry(live_server: Server) -> None:
    """Every component schema is named from elsewhere in the document (none is the domain's
    type a body is read into), and the batch of updates is described as workers send it."""
    doc = httpx.get(live_server.url + "/openapi.json").json()
    schemas = doc["components"]["schemas"]
    for name in schemas:
        rest = {**doc, "components": {"schemas": {k: v for k, v in schemas.items() if k != name}}}
        assert f'"#/components/schemas/{name}"' in json.dumps(rest), name
    batch = doc["paths"]["/v1/executions/batch"]["post"]["requestBody"]["content"]
    assert batch["application/json"]["schema"] == {"$ref": "#/components/schemas/BatchUpdateIn"}
    updates = schemas["BatchUpdateIn"]["properties"]["updates"]
    assert updates["items"] == {"$ref": "#/components/schemas/BatchUpdateItem"}
    assert (updates["minItems"], updates["maxItems"]) == (1, 1000)
    assert "ExecutionUpdate" not in schemas
    assert "NewLogEntry" not in schemas


def test_answers_carry_security_headers(tenant: Tenant) -> None:
    """Nothing is sniffed, framed, cached or referred, refusals included."""
    with tenant.client() as c:
        for r in (
            c.get("/v1/jobs"),
            c.get("/v1/jobs/nope"),
            httpx.get(tenant.server.url + "/v1/me"),
        ):
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["x-frame-options"] == "DENY"
            assert r.headers["cache-control"] == "no-store"
            assert r.headers["referrer-policy"] == "no-referrer"
            assert "default-src 'none'" in r.headers["content-security-policy"]
        docs = c.get("/docs")
        assert docs.status_code == 200
        assert "content-security-policy" not in docs.headers  # its scripts come from a CDN
