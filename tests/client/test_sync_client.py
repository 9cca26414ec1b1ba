"""`jobyard.Client` against a live server: every route, typed answers, typed errors."""

from __future__ import annotations

import pytest

from jobyard import Client, ConflictError, JobSpec, NotFoundError
from jobyard.client import AuthenticationError, ExecutionUpdate, ForbiddenError, ValidationError
from tests.support.api import Tenant


def test_create_get_list_and_iterate(tenant: Tenant) -> None:
    with Client(tenant.server.url, tenant.admin_key) as c:
        job = c.create_job("email", params={"to": "a@example.com"}, labels={"team": "ops"})
        assert job.status == "queued"
        assert c.get_job(job.id).params == {"to": "a@example.com"}
        more = c.create_jobs([JobSpec(type="email"), {"type": "sms", "priority": 5}])
        assert [j.type for j in more] == ["email", "sms"]
        assert [j.id for j in c.list_jobs(labels={"team": "ops"}).items] == [job.id]
        page = c.list_jobs(limit=2)
        assert len(page.items) == 2
        assert page.next_cursor is not None
        everything = list(c.iter_jobs(limit=1))
        assert {j.id for j in everything} == {job.id, *(j.id for j in more)}
        assert [j.type for j in c.list_jobs(type=["sms"]).items] == ["sms"]


def test_create_job_ids_answers_ids_of_jobs_made(tenant: Tenant) -> None:
    with Client(tenant.server.url, tenant.admin_key) as c:
        ids = c.create_job_ids([JobSpec(type="email"), {"type": "sms", "queue": "texts"}])
        assert len(ids) == 2
        assert [c.get_job(i).type for i in ids] == ["email", "sms"]
        assert c.get_job(ids[1]).queue == "texts"


def test_create_is_idempotent_on_retry(tenant: Tenant) -> None:
    with Client(tenant.server.url, tenant.admin_key) as c:
        first = c.create_job({"type": "email", "idempotency_key": "k-1"})
        again = c.create_job({"type": "email", "idempotency_key": "k-1"})
        assert again.id == first.id
        with pytest.raises(ConflictError) as info:
            c.create_job({"type": "other", "idempotency_key": "k-1"})
        assert info.value.code == "idempotency_conflict"


def test_claim_update_and_batch(tenant: Tenant) -> None:
    with Client(tenant.server.url, tenant.admin_key) as c:
        a = c.create_job("work", queue="q")
        b = c.create_job("work", queue="q")
        claimed = c.claim(["q"], max=10, lease_s=30)
        assert {x.job_id for x in claimed} == {a.id, b.id}
        first, second = claimed
        beat = c.update_execution(
            ExecutionUpdate(
                job_id=first.job_id,
                execution_number=first.execution_number,
                expected_version=first.version,
                status_details={"step": "1"},
            )
        )
        assert beat.version == first.version + 1
        assert beat.cancel_requested is False
        with pytest.raises(ConflictError) as stale:
            c.update_execution(
                ExecutionUpdate(
                    job_id=first.job_id,
                    execution_number=1,
                    expected_version=first.version,
                    status="succeeded",
                )
            )
        assert stale.value.details["execution"]["version"] == beat.version
        results = c.update_executions(
            [
                ExecutionUpdate(job_id=x.job_id, execution_number=1, status="succeeded")
                for x in (first, second)
            ]
            + [ExecutionUpdate(job_id=second.job_id, execution_number=1, status="failed")]
        )
        assert [r.ok for r in results] == [True, True, False]
        assert results[2].error is not None
        assert c.get_job(a.id).status == "succeeded"


def test_cancel_retry_and_executions(tenant: Tenant) -> None:
    with Client(tenant.server.url, tenant.admin_key) as c:
        job = c.create_job("work", queue="cancel-me")
        canceled = c.cancel_job(job.id, reason="not needed")
        assert canceled.status == "canceled"
        again = c.retry_job(job.id)
        assert again.status == "queued"
        assert [x.execution_number for x in c.list_executions(job.id)] == [1, 2]


def test_sharing_a_job_with_another_member(tenant: Tenant) -> None:
    alice, bob = tenant.new_key("member"), tenant.new_key("member")
    with Client(tenant.server.url, alice) as a, Client(tenant.server.url, bob) as b:
        me = b.whoami()
        assert (me.role, me.system, me.tenant_id) == ("member", False, tenant.id)
        job = a.create_job("work", queue="shared")
        assert job.owner == a.whoami().subject
        with pytest.raises(ForbiddenError):
            b.cancel_job(job.id)
        assert a.share_job(job.id, [me.subject]).collaborators == [me.subject]
        assert b.cancel_job(job.id).status == "canceled"


def test_errors_are_typed_and_carry_the_server_code(tenant: Tenant) -> None:
    with Client(tenant.server.url, tenant.admin_key) as c:
        with pytest.raises(NotFoundError) as missing:
            c.get_job("00000000-0000-7000-8000-000000000000")
        assert missing.value.code == "not_found"
        assert missing.value.status_code == 404
        with pytest.raises(ValidationError) as invalid:
            c.create_job({"type": "x", "priority": 10**9})
        assert "priority" in invalid.value.message
        viewer = tenant.new_key("viewer")
    with Client(tenant.server.url, viewer) as c, pytest.raises(ForbiddenError):
        c.create_job("email")
    unknown = "jy_0000000000000000_nope"
    with Client(tenant.server.url, unknown) as c, pytest.raises(AuthenticationError):
        c.list_jobs()


def test_keys_and_tenants(tenant: Tenant) -> None:
    with Client(tenant.server.url, tenant.admin_key) as c:
        made = c.create_key("ci", "worker", queues=["builds"], things=["dev-1"])
        assert made.key is not None
        assert made.key.startswith("jy_")
        assert (made.queues, made.things, made.type) == (["builds"], ["dev-1"], "api")
        assert made.id in {k.id for k in c.list_keys()}
        rotated = c.rotate_key(made.id, revoke_old_in_s=0)
        assert rotated.key is not None
        assert (rotated.subject, rotated.things) == (made.id, ["dev-1"])
        assert rotated.old_key.revoked_at is not None
        signed = c.create_key("device", "worker", key_type="aws-sigv4")
        assert signed.access_key_id is not None
        assert signed.access_key_id.startswith("JYAK")
        assert signed.secret_access_key is not None
        assert signed.key is None
        assert c.rotate_signing_key().id
        assert c.revoke_key(signed.id).revoked_at is not None
    with Client(tenant.server.url, tenant.server.admin_key) as system:
        created = system.create_tenant("sdk-made-tenant")
        assert created.admin_key
        assert "sdk-made-tenant" in {t.name for t in system.list_tenants()}
