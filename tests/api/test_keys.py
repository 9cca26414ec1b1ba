"""API keys, roles and tenants over real HTTP: what each key may do, and tenant walls."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.api import (
    JSON,
    Tenant,
    claim,
    claim_one,
    create_job,
    error_of,
    execution_path,
    get_job,
    list_all,
    report,
)
from tests.support.server import Server

# ---- keys ---------------------------------------------------------------------------------


def test_a_new_key_is_shown_once_and_works(tenant: Tenant, client: httpx.Client) -> None:
    r = client.post("/v1/keys", json={"name": "ci", "role": "member"})
    assert r.status_code == 201, r.text
    made = r.json()
    secret = made["key"]
    assert (made["name"], made["role"]) == ("ci", "member")
    assert made["revoked_at"] is None

    listing = client.get("/v1/keys")
    assert listing.status_code == 200, listing.text
    assert made["id"] in {k["id"] for k in listing.json()["items"]}
    assert secret not in listing.text
    assert all("key" not in k and "secret_hash" not in k for k in listing.json()["items"])

    with tenant.client(secret) as member:
        assert create_job(member)["owner"] == made["id"]


def test_a_revoked_key_fails_from_the_next_request(tenant: Tenant, client: httpx.Client) -> None:
    made = client.post("/v1/keys", json={"name": "temp", "role": "member"}).json()
    with tenant.client(made["key"]) as member:
        assert member.get("/v1/jobs").status_code == 200
        r = client.delete(f"/v1/keys/{made['id']}")
        assert r.status_code == 200, r.text
        assert r.json()["revoked_at"] is not None
        assert error_of(member.get("/v1/jobs"), 401)["code"] == "unauthenticated"
    assert error_of(client.delete(f"/v1/keys/{made['id']}"), 404)["code"] == "not_found"


def test_an_expired_key_is_refused(tenant: Tenant, client: httpx.Client) -> None:
    made = client.post(
        "/v1/keys", json={"name": "old", "role": "member", "expires_at": "2001-01-01T00:00:00Z"}
    )
    assert made.status_code == 201, made.text
    with tenant.client(made.json()["key"]) as old:
        assert error_of(old.get("/v1/jobs"), 401)["code"] == "unauthenticated"


def test_unknown_and_missing_keys_are_401(live_server: Server) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer jy_0123456789abcdef_nope"},
        {"Authorization": "Bearer " + "x" * 64},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "jy_nothing"},
    ):
        r = httpx.get(live_server.url + "/v1/jobs", headers=headers)
        assert error_of(r, 401)["code"] == "unauthenticated", headers
        assert r.headers["www-authenticate"] == "Bearer"


def test_a_key_role_must_be_known(client: httpx.Client) -> None:
    r = client.post("/v1/keys", json={"name": "x", "role": "superuser"})
    assert error_of(r, 422)["field"] == "role"


# ---- roles --------------------------------------------------------------------------------


def test_viewer_reads_but_may_not_write(tenant: Tenant, client: httpx.Client) -> None:
    job = create_job(client)
    with tenant.client(tenant.new_key("viewer")) as viewer:
        assert viewer.get(f"/v1/jobs/{job['id']}").status_code == 200
        assert [j["id"] for j in list_all(viewer)] == [job["id"]]
        assert viewer.get(f"/v1/jobs/{job['id']}/executions").status_code == 200
        for r in (
            viewer.post("/v1/jobs", json={"type": "t"}),
            viewer.post("/v1/jobs/batch", json={"jobs": [{"type": "t"}]}),
            viewer.post("/v1/claims", json={"queues": ["default"]}),
            viewer.post(f"/v1/jobs/{job['id']}/cancel"),
            viewer.post(f"/v1/jobs/{job['id']}/retry"),
            viewer.patch(f"/v1/jobs/{job['id']}/executions/1", json={}),
            viewer.post("/v1/keys", json={"name": "x", "role": "admin"}),
            viewer.get("/v1/keys"),
        ):
            assert error_of(r, 403)["code"] == "forbidden", r.request.url
    assert get_job(client, job["id"])["status"] == "queued"


def test_worker_claims_and_reports_but_may_not_create_or_read(
    tenant: Tenant, client: httpx.Client
) -> None:
    job = create_job(client)
    with tenant.client(tenant.new_key("worker")) as worker:
        ex = claim_one(worker)
        assert ex["job_id"] == job["id"]
        assert report(worker, ex, status="succeeded").status_code == 200
        for r in (
            worker.post("/v1/jobs", json={"type": "t"}),
            worker.get("/v1/jobs"),
            worker.get(f"/v1/jobs/{job['id']}"),
            worker.get(f"/v1/jobs/{job['id']}/executions"),
            worker.post(f"/v1/jobs/{job['id']}/cancel"),
            worker.get("/v1/keys"),
        ):
            assert error_of(r, 403)["code"] == "forbidden", r.request.url
    assert get_job(client, job["id"])["status"] == "succeeded"


def test_member_creates_and_reads_but_may_not_claim_or_manage_keys(
    tenant: Tenant, client: httpx.Client
) -> None:
    with tenant.client(tenant.new_key("member")) as member:
        job = create_job(member)
        assert get_job(member, job["id"])["status"] == "queued"
        assert error_of(member.post("/v1/claims", json={"queues": ["default"]}), 403)
        assert error_of(member.get("/v1/keys"), 403)
        assert member.post(f"/v1/jobs/{job['id']}/cancel").status_code == 202


def test_worker_key_limited_to_queues(tenant: Tenant, client: httpx.Client) -> None:
    create_job(client, queue="allowed")
    create_job(client, queue="secret")
    with tenant.client(tenant.new_key("worker", queues=["allowed"])) as worker:
        assert len(claim(worker, "allowed")) == 1
        r = worker.post("/v1/claims", json={"queues": ["allowed", "secret"]})
        assert error_of(r, 403)["code"] == "forbidden"


# ---- tenants ------------------------------------------------------------------------------


def test_system_admin_creates_tenants_with_their_first_admin_key(live_server: Server) -> None:
    with live_server.client() as system:
        r = system.post("/v1/tenants", json={"name": "acme-tenant-test"})
        assert r.status_code == 201, r.text
        made = r.json()
        assert made["name"] == "acme-tenant-test"
        listing = system.get("/v1/tenants")
        assert listing.status_code == 200
        assert made["id"] in {t["id"] for t in listing.json()["items"]}
        assert made["admin_key"] not in listing.text
        again = system.post("/v1/tenants", json={"name": "acme-tenant-test"})
        assert error_of(again, 409)["code"] == "conflict"
    with live_server.client(made["admin_key"]) as acme:
        assert acme.get("/v1/jobs").json()["items"] == []
        assert acme.post("/v1/keys", json={"name": "w", "role": "worker"}).status_code == 201


def test_a_tenant_admin_may_not_manage_tenants(client: httpx.Client) -> None:
    assert error_of(client.post("/v1/tenants", json={"name": "mine"}), 403)["code"] == "forbidden"
    assert error_of(client.get("/v1/tenants"), 403)["code"] == "forbidden"


@pytest.fixture
def foreign_job(other_tenant: Tenant) -> JSON:
    """A job of another tenant, claimed there so that it has a live execution."""
    with other_tenant.client() as other:
        job = create_job(other)
        claim_one(other)
    return job


def test_another_tenants_job_is_404_everywhere(
    client: httpx.Client, other_tenant: Tenant, foreign_job: JSON
) -> None:
    jid = foreign_job["id"]
    ex = {"job_id": jid, "execution_number": 1}
    for r in (
        client.get(f"/v1/jobs/{jid}"),
        client.get(f"/v1/jobs/{jid}/executions"),
        client.post(f"/v1/jobs/{jid}/cancel"),
        client.post(f"/v1/jobs/{jid}/retry"),
        client.patch(execution_path(ex), json={"status": "succeeded"}),
    ):
        assert error_of(r, 404)["code"] == "not_found", r.request.url
    batch = client.post(
        "/v1/executions/batch", json={"updates": [{**ex, "status": "succeeded"}]}
    ).json()
    assert batch["results"][0]["error"]["code"] == "not_found"
    assert list_all(client) == []
    assert claim(client, max=10) == []
    with other_tenant.client() as other:
        still = get_job(other, jid)
    assert still["status"] == "in_progress"
    assert still["kill_order"] is None


def test_another_tenants_key_cannot_be_revoked(client: httpx.Client, other_tenant: Tenant) -> None:
    with other_tenant.client() as other:
        theirs = other.post("/v1/keys", json={"name": "theirs", "role": "viewer"}).json()
    assert error_of(client.delete(f"/v1/keys/{theirs['id']}"), 404)["code"] == "not_found"
    assert theirs["id"] not in {k["id"] for k in client.get("/v1/keys").json()["items"]}
    with other_tenant.client(theirs["key"]) as viewer:
        assert viewer.get("/v1/jobs").status_code == 200


def test_concurrent_tenants_with_one_name_make_one(live_server: Server) -> None:
    for round_ in range(5):
        name = f"race-{round_}-{uuid.uuid4().hex[:8]}"
        barrier = threading.Barrier(8)

        def create(_: int, name: str = name, barrier: threading.Barrier = barrier) -> int:
            with live_server.client() as system:
                barrier.wait()
                return system.post("/v1/tenants", json={"name": name}).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = sorted(pool.map(create, range(8)))
        assert codes == [201] + [409] * 7


def test_keys_travel_as_bearer_or_key_never_in_the_url(tenant: Tenant) -> None:
    with httpx.Client(base_url=tenant.server.url) as anonymous:
        ok = anonymous.get("/v1/jobs", headers={"Authorization": f"Key {tenant.admin_key}"})
        assert ok.status_code == 200
        for name in ("api_key", "key", "token", "access_token"):
            r = anonymous.get(
                "/v1/jobs/00000000-0000-7000-8000-000000000000",
                params={name: tenant.admin_key},
                headers={"Authorization": f"Bearer {tenant.admin_key}"},
            )
            assert error_of(r, 400)["code"] == "invalid_query", name
        bad = anonymous.get("/v1/jobs", headers={"Authorization": "Basic abc"})
        assert error_of(bad, 401)["code"] == "unauthenticated"
