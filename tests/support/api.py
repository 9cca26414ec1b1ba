"""Talking to a live server as a user would: a fresh tenant per test, and the common calls.

Tests share one server per backend (starting one takes seconds) but never a tenant, so no test
sees another's jobs, keys or queues.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.server import Server

JSON = dict[str, Any]


@dataclass
class Tenant:
    """A tenant made for one test on a shared server, with its (non-system) admin key."""

    server: Server
    id: str
    admin_key: str

    def client(self, key: str | None = None, timeout: float = 30.0) -> httpx.Client:
        return self.server.client(key or self.admin_key, timeout)

    def new_key(self, role: str, **fields: Any) -> str:
        """A new API key of `role` in this tenant; answers the secret."""
        with self.client() as c:
            r = c.post("/v1/keys", json={"name": f"{role} key", "role": role, **fields})
        assert r.status_code == 201, r.text
        key = r.json()["key"]
        assert isinstance(key, str)
        return key


def new_tenant(server: Server) -> Tenant:
    with server.client() as c:
        r = c.post("/v1/tenants", json={"name": f"t-{uuid.uuid4().hex[:12]}"})
    assert r.status_code == 201, r.text
    body = r.json()
    return Tenant(server, body["id"], body["admin_key"])


def create_job(c: httpx.Client, **fields: Any) -> JSON:
    fields.setdefault("type", "test.job")
    r = c.post("/v1/jobs", json=fields)
    assert r.status_code == 201, r.text
    job: JSON = r.json()
    return job


def create_batch(c: httpx.Client, jobs: list[JSON]) -> list[JSON]:
    r = c.post("/v1/jobs/batch", json={"jobs": jobs})
    assert r.status_code == 201, r.text
    created: list[JSON] = r.json()["jobs"]
    assert len(created) == len(jobs)
    return created


def claim(c: httpx.Client, queue: str = "default", **fields: Any) -> list[JSON]:
    r = c.post("/v1/claims", json={"queues": [queue], **fields})
    assert r.status_code == 200, r.text
    executions: list[JSON] = r.json()["executions"]
    return executions


def claim_one(c: httpx.Client, queue: str = "default", **fields: Any) -> JSON:
    executions = claim(c, queue, **fields)
    assert len(executions) == 1, executions
    return executions[0]


def execution_path(ex: JSON) -> str:
    return f"/v1/jobs/{ex['job_id']}/executions/{ex['execution_number']}"


def report(c: httpx.Client, ex: JSON, **fields: Any) -> httpx.Response:
    """PATCH the execution a claim handed out."""
    return c.patch(execution_path(ex), json=fields)


def get_job(c: httpx.Client, job_id: str) -> JSON:
    r = c.get(f"/v1/jobs/{job_id}")
    assert r.status_code == 200, r.text
    job: JSON = r.json()
    return job


def executions_of(c: httpx.Client, job_id: str) -> list[JSON]:
    r = c.get(f"/v1/jobs/{job_id}/executions")
    assert r.status_code == 200, r.text
    items: list[JSON] = r.json()["items"]
    return items


def list_all(c: httpx.Client, **params: str) -> list[JSON]:
    """Every job matching `params`, page after page (of the largest size) through the cursor."""
    items: list[JSON] = []
    cursor: str | None = None
    while True:
        query: dict[str, str | int] = {**params, "limit": 1000}
        if cursor:
            query["cursor"] = cursor
        r = c.get("/v1/jobs", params=query)
        assert r.status_code == 200, r.text
        page = r.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def error_of(r: httpx.Response, status: int) -> JSON:
    """The `error` object of a refusal, after checking its status and shape."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    error: JSON = r.json()["error"]
    assert isinstance(error["code"], str)
    assert error["code"]
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


def wait_until(check: Callable[[], bool], timeout_s: float = 10.0, every_s: float = 0.05) -> float:
    """Poll until `check()` holds; answers the seconds it took, fails after `timeout_s`."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout_s:
            raise AssertionError(f"condition not met within {timeout_s} s")
        time.sleep(every_s)
    return time.monotonic() - start
