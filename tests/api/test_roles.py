"""The role table, walked over every operation of /openapi.json (routes added later too).

Each operation declares what it needs (`x-jobyard-op`); for each role, a request that would
succeed is sent with that role's key. A role the table grants must get through (2xx); any other
gets 403. A new route fails this test until it declares its operation and gets a recipe here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from jobyard.service.permissions import PERMISSIONS, Op, Role
from tests.support.api import JSON, Tenant, claim_one, create_job

ROLES = [r.value for r in Role]


@dataclass
class World:
    """What one walked request may need: a job owned by the member key, and an execution of
    it held by the worker key, on queues of this case alone."""

    tenant: Tenant
    keys: dict[str, str]
    queue: str
    job: JSON
    execution: JSON | None = None

    def client(self, role: str) -> httpx.Client:
        return self.tenant.client(self.keys[role])


def _world(tenant: Tenant, keys: dict[str, str], claimed: bool = False) -> World:
    queue = "q-" + uuid.uuid4().hex[:10]
    with tenant.client(keys["member"]) as member:
        job = create_job(member, queue=queue)
    world = World(tenant, keys, queue, job)
    if claimed:
        with world.client("worker") as worker:
            world.execution = claim_one(worker, queue, worker={"id": "w-" + queue})
    return world


def _ex_path(w: World, tail: str = "") -> str:
    assert w.execution is not None
    return f"/v1/jobs/{w.job['id']}/executions/{w.execution['execution_number']}{tail}"


Recipe = Callable[[httpx.Client, World], httpx.Response]
# method and path (as in /openapi.json) -> (needs a claimed execution, the request)
RECIPES: dict[tuple[str, str], tuple[bool, Recipe]] = {
    ("post", "/v1/jobs"): (False, lambda c, w: c.post("/v1/jobs", json={"type": "t"})),
    ("post", "/v1/jobs/batch"): (
        False,
        lambda c, w: c.post("/v1/jobs/batch", json={"jobs": [{"type": "t"}]}),
    ),
    ("get", "/v1/jobs"): (False, lambda c, w: c.get("/v1/jobs")),
    ("get", "/v1/jobs/{job_id}"): (False, lambda c, w: c.get(f"/v1/jobs/{w.job['id']}")),
    ("post", "/v1/jobs/{job_id}/cancel"): (
        False,
        lambda c, w: c.post(f"/v1/jobs/{w.job['id']}/cancel"),
    ),
    ("post", "/v1/jobs/{job_id}/retry"): (False, lambda c, w: _retry(c, w)),
    ("put", "/v1/jobs/{job_id}/collaborators"): (
        False,
        lambda c, w: c.put(f"/v1/jobs/{w.job['id']}/collaborators", json={"collaborators": []}),
    ),
    ("get", "/v1/jobs/{job_id}/executions"): (
        False,
        lambda c, w: c.get(f"/v1/jobs/{w.job['id']}/executions"),
    ),
    ("get", "/v1/jobs/{job_id}/logs"): (False, lambda c, w: c.get(f"/v1/jobs/{w.job['id']}/logs")),
    ("get", "/v1/jobs/{job_id}/logs/stream"): (False, lambda c, w: _stream(c, w)),
    ("get", "/v1/jobs/{job_id}/logs/download"): (
        False,
        lambda c, w: c.get(f"/v1/jobs/{w.job['id']}/logs/download"),
    ),
    ("get", "/v1/jobs/{job_id}/error"): (
        False,
        lambda c, w: c.get(f"/v1/jobs/{w.job['id']}/error"),
    ),
    ("get", "/v1/jobs/{job_id}/record-errors"): (
        False,
        lambda c, w: c.get(f"/v1/jobs/{w.job['id']}/record-errors"),
    ),
    ("post", "/v1/jobs/{job_id}/record-errors/resolve"): (
        False,
        lambda c, w: c.post(f"/v1/jobs/{w.job['id']}/record-errors/resolve"),
    ),
    ("post", "/v1/jobs/{job_id}/record-errors/file-url"): (
        False,
        lambda c, w: c.post(f"/v1/jobs/{w.job['id']}/record-errors/file-url"),
    ),
    ("post", "/v1/claims"): (False, lambda c, w: c.post("/v1/claims", json={"queues": [w.queue]})),
    ("get", "/v1/workers/{worker_id}/kill-orders"): (
        False,
        lambda c, w: c.get("/v1/workers/w1/kill-orders", params={"queues": w.queue}),
    ),
    ("patch", "/v1/jobs/{job_id}/executions/{execution_number}"): (
        True,
        lambda c, w: c.patch(_ex_path(w), json={"status_details": {"at": "1"}}),
    ),
    ("post", "/v1/executions/batch"): (
        True,
        lambda c, w: c.post(
            "/v1/executions/batch",
            json={"updates": [{"job_id": w.job["id"], "execution_number": 1}]},
        ),
    ),
    ("post", "/v1/jobs/{job_id}/executions/{execution_number}/logs"): (
        True,
        lambda c, w: c.post(_ex_path(w, "/logs"), json={"entries": [{"data": "x"}]}),
    ),
    ("post", "/v1/jobs/{job_id}/executions/{execution_number}/record-errors"): (
        True,
        lambda c, w: c.post(_ex_path(w, "/record-errors"), json={"errors": [{"message": "x"}]}),
    ),
    ("post", "/v1/keys"): (
        False,
        lambda c, w: c.post("/v1/keys", json={"name": "k", "role": "viewer"}),
    ),
    ("get", "/v1/keys"): (False, lambda c, w: c.get("/v1/keys")),
    ("delete", "/v1/keys/{key_id}"): (False, lambda c, w: c.delete(f"/v1/keys/{_new_key(w)}")),
    ("post", "/v1/keys/{key_id}/rotate"): (
        False,
        lambda c, w: c.post(f"/v1/keys/{_new_key(w)}/rotate", json={}),
    ),
    ("post", "/v1/signing-keys/rotate"): (False, lambda c, w: c.post("/v1/signing-keys/rotate")),
    ("post", "/v1/tenants"): (
        False,
        lambda c, w: c.post("/v1/tenants", json={"name": "t-" + uuid.uuid4().hex}),
    ),
    ("get", "/v1/tenants"): (False, lambda c, w: c.get("/v1/tenants")),
    ("get", "/v1/me"): (False, lambda c, w: c.get("/v1/me")),
    ("get", "/metrics"): (False, lambda c, w: c.get("/metrics")),
}


def _retry(c: httpx.Client, w: World) -> httpx.Response:
    with w.client("admin") as admin:
        assert admin.post(f"/v1/jobs/{w.job['id']}/cancel").status_code == 202
    return c.post(f"/v1/jobs/{w.job['id']}/retry")


def _stream(c: httpx.Client, w: World) -> httpx.Response:
    with c.stream("GET", f"/v1/jobs/{w.job['id']}/logs/stream") as r:
        if r.status_code != 200:
            r.read()  # a refusal is short; a tail stays open while the job runs
        return r


def _new_key(w: World) -> str:
    with w.client("admin") as admin:
        r = admin.post("/v1/keys", json={"name": "to revoke", "role": "viewer"})
    assert r.status_code == 201, r.text
    key_id = r.json()["id"]
    assert isinstance(key_id, str)
    return key_id


def _operations(spec: JSON) -> list[tuple[str, str, str]]:
    """(method, path, needed) for every operation; faces (added later) declare theirs too."""
    ops = []
    for path, items in spec["paths"].items():
        for method, op in items.items():
            assert "x-jobyard-op" in op, f"{method.upper()} {path} declares no x-jobyard-op"
            ops.append((method, path, op["x-jobyard-op"]))
    return ops


@pytest.fixture
def role_keys(tenant: Tenant) -> dict[str, str]:
    return {role: tenant.new_key(role) for role in ROLES if role != "admin"} | {
        "admin": tenant.admin_key
    }


def test_every_role_gets_exactly_what_the_table_grants(
    tenant: Tenant, role_keys: dict[str, str]
) -> None:
    with tenant.client() as c:
        spec = c.get("/openapi.json").json()
    walked = 0
    for method, path, needed in _operations(spec):
        if needed == "public":
            continue  # walked in test_public_routes_need_no_key
        assert (method, path) in RECIPES, f"no recipe for {method.upper()} {path}: add one here"
        claimed, recipe = RECIPES[(method, path)]
        for role in ROLES:
            world = _world(tenant, role_keys, claimed)
            with world.client(role) as c:
                r = recipe(c, world)
            if needed == "any-key":
                granted = True
            else:
                op = Op(needed)
                # managing tenants also needs the system admin key, which no tenant role has
                granted = Role(role) in PERMISSIONS[op] and op is not Op.TENANT_MANAGE
            where = f"{role} {method.upper()} {path}: {r.status_code}"
            if granted:
                assert 200 <= r.status_code < 300, where + " " + r.text
            else:
                assert r.status_code == 403, where
                assert r.json()["error"]["code"] == "forbidden", where
            walked += 1
    assert walked >= 4 * 30


def test_only_the_system_admin_key_manages_tenants(live_server: Any, tenant: Tenant) -> None:
    with live_server.client() as system:
        assert system.get("/v1/tenants").status_code == 200
        assert system.get("/v1/me").json()["system"] is True
    with tenant.client() as admin:
        assert admin.get("/v1/me").json()["system"] is False
        assert admin.get("/v1/tenants").status_code == 403


def test_public_routes_need_no_key(tenant: Tenant) -> None:
    with tenant.client() as c:
        spec = c.get("/openapi.json").json()
    public = [(m, p) for m, p, needed in _operations(spec) if needed == "public"]
    assert ("get", "/healthz") in public
    for method, path in public:
        r = httpx.request(
            method.upper(), tenant.server.url + path.replace("{", "x").replace("}", "")
        )
        assert r.status_code != 401, (method, path)
