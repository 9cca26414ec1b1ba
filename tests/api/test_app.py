"""The application as a whole: its OpenAPI document describes the native API."""

from __future__ import annotations

import httpx

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
