"""Members change only their own jobs and those shared with them; worker keys touch only the
queues, things and executions that are theirs."""

from __future__ import annotations

import httpx

from tests.support.api import JSON, Tenant, claim, claim_one, create_job, error_of, execution_path


def _subject(tenant: Tenant, key: str) -> str:
    with tenant.client(key) as c:
        me = c.get("/v1/me").json()
    assert isinstance(me["subject"], str)
    return me["subject"]


def test_a_member_changes_only_its_own_jobs(tenant: Tenant) -> None:
    alice, bob = tenant.new_key("member"), tenant.new_key("member")
    with tenant.client(alice) as a, tenant.client(bob) as b:
        job = create_job(a)
        assert job["owner"] == _subject(tenant, alice)
        assert b.get(f"/v1/jobs/{job['id']}").status_code == 200  # members read every job
        r = b.post(f"/v1/jobs/{job['id']}/cancel")
        assert error_of(r, 403)["code"] == "forbidden"
        assert b.get(f"/v1/jobs/{job['id']}").json()["status"] == "queued", "no side effect"
        assert b.post(f"/v1/jobs/{job['id']}/record-errors/resolve").status_code == 403
        assert a.post(f"/v1/jobs/{job['id']}/cancel").status_code == 202
        assert error_of(b.post(f"/v1/jobs/{job['id']}/retry"), 403)["code"] == "forbidden"
        assert a.post(f"/v1/jobs/{job['id']}/retry").status_code == 200


def test_a_collaborator_may_cancel_and_retry_but_not_share(tenant: Tenant) -> None:
    alice, bob, carol = (tenant.new_key("member") for _ in range(3))
    with tenant.client(alice) as a, tenant.client(bob) as b:
        job = create_job(a)
        r = a.put(
            f"/v1/jobs/{job['id']}/collaborators", json={"collaborators": [_subject(tenant, bob)]}
        )
        assert r.status_code == 200, r.text
        assert r.json()["collaborators"] == [_subject(tenant, bob)]
        assert b.post(f"/v1/jobs/{job['id']}/cancel").status_code == 202
        assert b.post(f"/v1/jobs/{job['id']}/retry").status_code == 200
        shared = {"collaborators": [_subject(tenant, carol)]}
        assert error_of(b.put(f"/v1/jobs/{job['id']}/collaborators", json=shared), 403)
        # unsharing takes effect on the next request
        assert a.put(f"/v1/jobs/{job['id']}/collaborators", json={"collaborators": []}).is_success
        assert b.post(f"/v1/jobs/{job['id']}/cancel").status_code == 403


def test_collaborators_named_at_creation_and_checked(tenant: Tenant) -> None:
    alice, bob = tenant.new_key("member"), tenant.new_key("member")
    with tenant.client(alice) as a, tenant.client(bob) as b:
        job = create_job(a, collaborators=[_subject(tenant, bob)])
        assert b.post(f"/v1/jobs/{job['id']}/cancel").status_code == 202
        r = a.post("/v1/jobs", json={"type": "t", "collaborators": ["nobody-here"]})
        assert error_of(r, 422)["field"] == "collaborators"


def test_admins_change_any_job_of_the_tenant(tenant: Tenant) -> None:
    member = tenant.new_key("member")
    with tenant.client(member) as m, tenant.client() as admin:
        job = create_job(m)
        assert admin.post(f"/v1/jobs/{job['id']}/cancel").status_code == 202


def test_a_rotated_key_keeps_its_jobs(tenant: Tenant) -> None:
    """Jobs belong to the key's subject; the key that replaces it may still change them."""
    with tenant.client() as admin:
        made = admin.post("/v1/keys", json={"name": "ci", "role": "member"}).json()
    with tenant.client(made["key"]) as old:
        job = create_job(old)
    with tenant.client() as admin:
        r = admin.post(f"/v1/keys/{made['id']}/rotate", json={"revoke_old_in_s": 0})
        assert r.status_code == 201, r.text
        rotated = r.json()
    with tenant.client(made["key"]) as old:
        assert old.get("/v1/me").status_code == 401
    with tenant.client(rotated["key"]) as new:
        assert new.get("/v1/me").json()["subject"] == made["id"]
        assert new.post(f"/v1/jobs/{job['id']}/cancel").status_code == 202


def test_a_worker_key_claims_only_from_its_queues(tenant: Tenant) -> None:
    key = tenant.new_key("worker", queues=["mine"])
    with tenant.client() as admin:
        create_job(admin, queue="mine")
        create_job(admin, queue="theirs")
    with tenant.client(key) as w:
        r = w.post("/v1/claims", json={"queues": ["theirs"]})
        assert error_of(r, 403)["code"] == "forbidden"
        r = w.post("/v1/claims", json={"queues": ["mine", "theirs"]})
        assert error_of(r, 403)["code"] == "forbidden"
        assert len(claim(w, "mine")) == 1


def test_a_worker_key_writes_only_to_executions_it_holds(tenant: Tenant) -> None:
    first, second = tenant.new_key("worker"), tenant.new_key("worker")
    with tenant.client() as admin:
        job = create_job(admin)
    with tenant.client(first) as w1, tenant.client(second) as w2:
        ex = claim_one(w1)
        path = execution_path(ex)
        r = w2.patch(path, json={"status": "succeeded"})
        assert error_of(r, 409)["reason"] == "not_lease_holder"
        r = w2.post(
            "/v1/executions/batch",
            json={"updates": [{"job_id": job["id"], "execution_number": 1, "status": "failed"}]},
        )
        (result,) = r.json()["results"]
        assert result["ok"] is False
        assert result["error"]["code"] == "not_lease_holder"
        assert w2.post(path + "/logs", json={"entries": [{"data": "x"}]}).status_code == 404
        errors = {"errors": [{"message": "x"}]}
        assert w2.post(path + "/record-errors", json=errors).status_code == 404
        assert w1.patch(path, json={"status": "succeeded"}).status_code == 200
    with tenant.client() as admin:
        got: JSON = admin.get(f"/v1/jobs/{job['id']}").json()
        assert got["status"] == "succeeded"
        assert admin.get(f"/v1/jobs/{job['id']}/logs").json()["entries"] == []


def test_a_device_key_claims_only_executions_for_its_things(tenant: Tenant) -> None:
    device = tenant.new_key("worker", things=["thing-1"])
    with tenant.client() as admin:
        create_job(admin, queue="fleet")
    with tenant.client(device) as d:
        assert claim(d, "fleet") == []  # the job targets no thing of this key
    with tenant.client(tenant.new_key("worker")) as w:
        assert len(claim(w, "fleet")) == 1


def test_metrics_show_a_tenant_its_own_series_only(tenant: Tenant, other_tenant: Tenant) -> None:
    with tenant.client() as mine, other_tenant.client() as theirs:
        create_job(mine, queue="q-mine")
        create_job(theirs, queue="q-theirs")
        text = mine.get("/metrics").text
        assert f'tenant="{tenant.id}"' in text
        assert 'queue="q-mine"' in text
        assert "q-theirs" not in text
        assert other_tenant.id not in text
        assert "process_cpu" not in text  # the server's own series are the system admin's
    assert httpx.get(tenant.server.url + "/metrics").status_code == 401
    with tenant.server.client() as system:
        every = system.get("/metrics").text
        assert other_tenant.id in every
        assert tenant.id in every
