"""API keys, roles and tenants over real HTTP: what each key may do, and tenant walls."""

from __future__ import annotations

import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

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


ACCESS_KEY_ID = re.compile(r"^JYAK[A-Z2-7]{16}$")


def test_keys_show_their_type_things_and_subject(client: httpx.Client) -> None:
    r = client.post(
        "/v1/keys",
        json={"name": "dev", "role": "worker", "things": ["thermo-1", "thermo-2"]},
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["type"], made["things"], made["subject"]) == (
        "api",
        ["thermo-1", "thermo-2"],
        made["id"],
    )
    assert made["access_key_id"] is None
    assert made["secret_access_key"] is None
    listed = next(k for k in client.get("/v1/keys").json()["items"] if k["id"] == made["id"])
    assert listed["things"] == ["thermo-1", "thermo-2"]
    for bad in ({"type": "ssh"}, {"things": ["no spaces"]}, {"things": ["x"] * 101}):
        r = client.post("/v1/keys", json={"name": "x", "role": "worker", **bad})
        assert error_of(r, 422)["field"].split(".")[0] in bad


def test_an_aws_sigv4_key_answers_its_access_key_id_and_secret_once(
    client: httpx.Client,
) -> None:
    r = client.post(
        "/v1/keys",
        json={"name": "device", "role": "worker", "type": "aws-sigv4", "things": ["pump-7"]},
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["type"] == "aws-sigv4"
    assert ACCESS_KEY_ID.match(made["access_key_id"]), made["access_key_id"]
    assert made["prefix"] == made["access_key_id"]
    secret = made["secret_access_key"]
    assert len(secret) == 40
    assert len(set(secret)) > 15
    assert made["key"] is None
    assert made["things"] == ["pump-7"]
    listing = client.get("/v1/keys")
    assert secret not in listing.text
    mine = next(k for k in listing.json()["items"] if k["id"] == made["id"])
    assert mine["access_key_id"] == made["access_key_id"]
    assert not {"secret_access_key", "secret_enc", "secret_hash", "key"} & set(mine)


def _rotate(client: httpx.Client, key_id: str, **body: object) -> JSON:
    r = client.post(f"/v1/keys/{key_id}/rotate", json=body)
    assert r.status_code == 201, r.text
    rotated: JSON = r.json()
    return rotated


def test_a_rotated_key_keeps_its_jobs_and_both_stay_live(
    tenant: Tenant, client: httpx.Client
) -> None:
    made = client.post(
        "/v1/keys", json={"name": "ci", "role": "member", "queues": ["a"], "things": ["t"]}
    ).json()
    with tenant.client(made["key"]) as old:
        job = create_job(old)
    rotated = _rotate(client, made["id"])
    assert rotated["id"] != made["id"]
    assert rotated["key"] not in (None, made["key"])
    same = ("name", "role", "type", "queues", "things")
    assert {f: rotated[f] for f in same} == {f: made[f] for f in same}
    assert rotated["subject"] == made["id"]
    assert rotated["old_key"]["id"] == made["id"]
    assert rotated["old_key"]["expires_at"] is None
    with tenant.client(rotated["key"]) as new, tenant.client(made["key"]) as old:
        assert create_job(new)["owner"] == job["owner"] == made["id"]
        assert new.post(f"/v1/jobs/{job['id']}/cancel").status_code == 202, "still its job"
        assert old.get("/v1/jobs").status_code == 200, "the old key stays live"
    again = _rotate(client, rotated["id"])
    assert again["subject"] == made["id"], "a line of keys keeps its first key's subject"


def test_rotation_can_end_the_old_key(tenant: Tenant, client: httpx.Client) -> None:
    first = client.post("/v1/keys", json={"name": "b", "role": "viewer"}).json()
    rotated = _rotate(client, first["id"], revoke_old_in_s=0)
    assert rotated["old_key"]["revoked_at"] is not None
    with tenant.client(first["key"]) as old, tenant.client(rotated["key"]) as new:
        assert error_of(old.get("/v1/jobs"), 401)["code"] == "unauthenticated"
        assert new.get("/v1/jobs").status_code == 200

    second = client.post("/v1/keys", json={"name": "c", "role": "viewer"}).json()
    later = _rotate(client, second["id"], revoke_old_in_s=3600)
    ends = datetime.fromisoformat(later["old_key"]["expires_at"])
    assert abs(ends - datetime.now(UTC) - timedelta(hours=1)) < timedelta(minutes=1)
    soon = _rotate(client, second["id"], revoke_old_in_s=1)
    assert datetime.fromisoformat(soon["old_key"]["expires_at"]) < ends
    with tenant.client(second["key"]) as old:
        assert old.get("/v1/jobs").status_code == 200
        time.sleep(1.5)
        assert error_of(old.get("/v1/jobs"), 401)["code"] == "unauthenticated"


def test_an_aws_sigv4_key_rotates_to_a_new_access_key(client: httpx.Client) -> None:
    made = client.post("/v1/keys", json={"name": "d", "role": "worker", "type": "aws-sigv4"})
    rotated = _rotate(client, made.json()["id"])
    assert rotated["type"] == "aws-sigv4"
    assert ACCESS_KEY_ID.match(rotated["access_key_id"])
    assert rotated["access_key_id"] != made.json()["access_key_id"]
    assert len(rotated["secret_access_key"]) == 40
    assert rotated["key"] is None


def test_rotation_is_refused_politely(tenant: Tenant, client: httpx.Client) -> None:
    made = client.post("/v1/keys", json={"name": "e", "role": "viewer"}).json()
    missing = client.post("/v1/keys/01a20000-0000-7000-8000-000000000000/rotate", json={})
    assert error_of(missing, 404)["code"] == "not_found"
    assert error_of(client.post("/v1/keys/nope/rotate"), 404)["code"] == "not_found"
    for bad in (-1, 10**9, "soon"):
        r = client.post(f"/v1/keys/{made['id']}/rotate", json={"revoke_old_in_s": bad})
        assert error_of(r, 422)["field"] == "revoke_old_in_s"
    with tenant.client(made["key"]) as viewer:
        r = viewer.post(f"/v1/keys/{made['id']}/rotate", json={})
        assert error_of(r, 403)["code"] == "forbidden"


def test_only_the_system_key_rotates_the_system_key(live_server: Server) -> None:
    with live_server.client() as system:
        me = system.get("/v1/keys").json()["items"]
        system_key = next(k for k in me if k["name"] == "system admin")
        admin = system.post("/v1/keys", json={"name": "plain admin", "role": "admin"}).json()
    with live_server.client(admin["key"]) as plain:
        r = plain.post(f"/v1/keys/{system_key['id']}/rotate", json={})
        assert error_of(r, 403)["code"] == "forbidden"
    with live_server.client() as system:
        rotated = _rotate(system, system_key["id"])
        with live_server.client(rotated["key"]) as new_system:
            assert new_system.get("/v1/tenants").status_code == 200, "still the system key"
        assert system.delete(f"/v1/keys/{rotated['id']}").status_code == 200
        assert system.delete(f"/v1/keys/{admin['id']}").status_code == 200


def test_rotating_the_signing_key_voids_every_signed_url(
    tenant: Tenant, client: httpx.Client
) -> None:
    job = create_job(client)
    ex = claim_one(client)
    r = client.post(execution_path(ex) + "/record-errors", json={"errors": [{"message": "bad"}]})
    assert r.status_code == 200, r.text
    path = f"/v1/jobs/{job['id']}/record-errors/file-url"
    before = [client.post(path, json={"format": f}).json()["url"] for f in ("ndjson", "csv")]
    with httpx.Client(base_url=tenant.server.url) as anonymous:
        assert [anonymous.get(u).status_code for u in before] == [200, 200]
        rotated = client.post("/v1/signing-keys/rotate")
        assert rotated.status_code == 200, rotated.text
        assert rotated.json()["retired"] == 1
        for url in before:
            assert error_of(anonymous.get(url), 403)["code"] == "forbidden"
        after = client.post(path).json()["url"]
        assert f"kid={rotated.json()['id']}" in after
        assert anonymous.get(after).status_code == 200
    assert client.post("/v1/signing-keys/rotate").json()["retired"] == 1
    with tenant.client(tenant.new_key("member")) as member:
        denied = member.post("/v1/signing-keys/rotate")
        assert error_of(denied, 403)["code"] == "forbidden"


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
    rotate = client.post(f"/v1/keys/{theirs['id']}/rotate", json={"revoke_old_in_s": 0})
    assert error_of(rotate, 404)["code"] == "not_found"
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
