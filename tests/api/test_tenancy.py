"""Every operation in /openapi.json (so routes added later are walked too), with tenant A's
key and tenant B's ids: 404 or 403 only, and nothing of B changes or shows."""

from __future__ import annotations

import re
from typing import Any

from tests.support.api import JSON, Tenant, claim_one, create_job

BODIES: dict[str, JSON] = {
    "logs": {"entries": [{"data": "from the other tenant"}]},
    "record-errors": {"errors": [{"message": "from the other tenant"}]},
    "{execution_number}": {"status": "succeeded"},
    "collaborators": {"collaborators": []},
}


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), ids["job_id"]), path)


def test_no_operation_reaches_another_tenant(tenant: Tenant, other_tenant: Tenant) -> None:
    with other_tenant.client() as theirs:
        job = create_job(theirs, steps=["a"])
        ex = claim_one(theirs, worker={"id": "their-worker"})
        key = theirs.post("/v1/keys", json={"name": "k", "role": "viewer"}).json()
        before = theirs.get(f"/v1/jobs/{job['id']}").json()
    ids = {
        "job_id": job["id"],
        "execution_number": str(ex["execution_number"]),
        "key_id": key["id"],
        "worker_id": "their-worker",
        "tenant_id": other_tenant.id,
        "fmt": "ndjson",
    }
    with tenant.client() as mine:
        spec: dict[str, Any] = mine.get("/openapi.json").json()
        walked = 0
        for path, ops in spec["paths"].items():
            if "{" not in path:
                continue
            for method in ops:
                url = _fill(path, ids)
                body = BODIES.get(path.rsplit("/", 1)[-1], {})
                r = mine.request(
                    method.upper(),
                    url,
                    json=body if method in {"post", "patch", "put"} else None,
                    params={"queues": "default"} if method == "get" else None,
                )
                if path.endswith("/kill-orders"):
                    # a worker id names no object, so A gets an answer: about A's executions only
                    assert r.json() == {"cancel_requested": []}
                    continue
                assert r.status_code in {403, 404}, (method, path, r.status_code, r.text)
                walked += 1
        assert walked >= 15
    with other_tenant.client() as theirs:
        after = theirs.get(f"/v1/jobs/{job['id']}").json()
        assert after == before, "a row of the other tenant changed"
        assert theirs.get(f"/v1/jobs/{job['id']}/logs").json()["entries"] == []
        assert theirs.get(f"/v1/jobs/{job['id']}/record-errors").json()["items"] == []
        keys = {k["id"]: k for k in theirs.get("/v1/keys").json()["items"]}
        assert keys[key["id"]]["revoked_at"] is None
    with tenant.client() as mine:
        assert mine.get("/v1/jobs").json()["items"] == []
        assert key["id"] not in {k["id"] for k in mine.get("/v1/keys").json()["items"]}
