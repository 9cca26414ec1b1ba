"""`/v1/jobs` over real HTTP: create (one, a batch, idempotent), get, cancel, retry, executions."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from tests.support.api import (
    Tenant,
    claim,
    claim_one,
    create_batch,
    create_job,
    error_of,
    executions_of,
    get_job,
    list_all,
    report,
)

# ---- create and get -------------------------------------------------------------------------


def test_create_answers_the_job_and_get_finds_it(client: httpx.Client) -> None:
    r = client.post(
        "/v1/jobs",
        json={
            "type": "email.send",
            "queue": "mail",
            "priority": 7,
            "params": {"to": "a@example.com", "n": [1, 2.5, None, True]},
            "document": {"steps": ["render", "send"]},
            "labels": {"user": "u1"},
            "max_attempts": 5,
            "timeout_s": 60,
        },
    )
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["status"] == "queued"
    assert (job["type"], job["queue"], job["priority"]) == ("email.send", "mail", 7)
    assert job["params"] == {"to": "a@example.com", "n": [1, 2.5, None, True]}
    assert job["document"] == {"steps": ["render", "send"]}
    assert job["labels"] == {"user": "u1"}
    assert (job["max_attempts"], job["timeout_s"]) == (5, 60)
    assert job["attempts"] == 1
    assert job["latest_execution"]["execution_number"] == 1
    assert job["latest_execution"]["status"] == "queued"
    assert get_job(client, job["id"]) | {"latest_execution": None} == job | {
        "latest_execution": None
    }


def test_defaults_are_the_documented_ones(client: httpx.Client) -> None:
    job = create_job(client, type="t")
    assert (job["queue"], job["priority"], job["max_attempts"]) == ("default", 0, 3)
    assert (job["params"], job["labels"], job["document"]) == ({}, {}, None)
    assert job["scheduled_at"] is None
    assert job["completed_at"] is None


# ---- idempotency --------------------------------------------------------------------------


def test_idempotency_key_header_replays_the_same_job(client: httpx.Client) -> None:
    body = {"type": "charge", "params": {"amount": 10}}
    first = client.post("/v1/jobs", json=body, headers={"Idempotency-Key": "order-1"})
    again = client.post("/v1/jobs", json=body, headers={"Idempotency-Key": "order-1"})
    assert first.status_code == 201, first.text
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert len(list_all(client)) == 1


def test_idempotency_key_with_another_body_is_a_conflict(client: httpx.Client) -> None:
    headers = {"Idempotency-Key": "order-2"}
    assert client.post("/v1/jobs", json={"type": "charge"}, headers=headers).status_code == 201
    other = client.post(
        "/v1/jobs", json={"type": "charge", "params": {"amount": 99}}, headers=headers
    )
    assert error_of(other, 409)["code"] == "idempotency_conflict"
    assert len(list_all(client)) == 1


def test_idempotency_key_field_and_header_name_the_same_key(client: httpx.Client) -> None:
    by_field = client.post("/v1/jobs", json={"type": "t", "idempotency_key": "k-3"})
    by_header = client.post("/v1/jobs", json={"type": "t"}, headers={"Idempotency-Key": "k-3"})
    assert (by_field.status_code, by_header.status_code) == (201, 200)
    assert by_field.json()["id"] == by_header.json()["id"]
    assert by_field.json()["idempotency_key"] == "k-3"
    changed = client.post("/v1/jobs", json={"type": "u", "idempotency_key": "k-3"})
    assert error_of(changed, 409)["code"] == "idempotency_conflict"


def test_idempotency_header_and_field_must_agree(client: httpx.Client) -> None:
    r = client.post(
        "/v1/jobs", json={"type": "t", "idempotency_key": "a"}, headers={"Idempotency-Key": "b"}
    )
    assert error_of(r, 422)["field"] == "idempotency_key"
    assert list_all(client) == []


def test_idempotency_keys_belong_to_one_tenant(tenant: Tenant, other_tenant: Tenant) -> None:
    headers = {"Idempotency-Key": "shared"}
    with tenant.client() as a, other_tenant.client() as b:
        ja = a.post("/v1/jobs", json={"type": "t"}, headers=headers)
        jb = b.post("/v1/jobs", json={"type": "t", "params": {"x": 1}}, headers=headers)
    assert (ja.status_code, jb.status_code) == (201, 201)
    assert ja.json()["id"] != jb.json()["id"]


# ---- batch create -------------------------------------------------------------------------


def test_batch_of_1000_is_created_in_one_request(client: httpx.Client) -> None:
    jobs = [{"type": "bulk", "params": {"i": i}} for i in range(1000)]
    created = create_batch(client, jobs)
    assert [j["params"]["i"] for j in created] == list(range(1000))
    assert all(j["status"] == "queued" for j in created)
    listed = list_all(client)
    assert {j["id"] for j in listed} == {j["id"] for j in created}


def test_batch_with_one_invalid_job_creates_none(client: httpx.Client) -> None:
    jobs: list[dict[str, object]] = [{"type": "ok", "params": {"i": i}} for i in range(1000)]
    jobs[500] = {"type": "not a valid type!"}
    err = error_of(client.post("/v1/jobs/batch", json={"jobs": jobs}), 422)
    assert err["field"] == "jobs.500.type"
    assert list_all(client) == []


def test_batch_that_fails_in_the_database_creates_none(client: httpx.Client) -> None:
    """The whole batch is one transaction: a conflict on its last job undoes the others."""
    create_job(client, type="first", idempotency_key="taken")
    jobs = [{"type": "new", "params": {"i": i}} for i in range(10)]
    jobs.append({"type": "different", "idempotency_key": "taken"})
    err = error_of(client.post("/v1/jobs/batch", json={"jobs": jobs}), 409)
    assert err["code"] == "idempotency_conflict"
    assert [j["type"] for j in list_all(client)] == ["first"]


def test_batch_over_1000_is_refused(client: httpx.Client) -> None:
    jobs = [{"type": "t"} for _ in range(1001)]
    err = error_of(client.post("/v1/jobs/batch", json={"jobs": jobs}), 422)
    assert err["field"] == "jobs"
    assert list_all(client) == []


def test_empty_batch_is_refused(client: httpx.Client) -> None:
    assert error_of(client.post("/v1/jobs/batch", json={"jobs": []}), 422)["field"] == "jobs"


def test_batch_replay_with_idempotency_keys_answers_the_same_jobs(client: httpx.Client) -> None:
    jobs = [{"type": "t", "idempotency_key": f"b-{i}"} for i in range(3)]
    first = create_batch(client, jobs)
    again = create_batch(client, jobs)
    assert [j["id"] for j in again] == [j["id"] for j in first]
    assert len(list_all(client)) == 3


# ---- parents ------------------------------------------------------------------------------


def test_child_jobs_name_their_parent(client: httpx.Client) -> None:
    parent = create_job(client, type="flow")
    child = create_job(client, type="step", parent_id=parent["id"])
    assert child["parent_id"] == parent["id"]


def test_parent_must_be_a_job_of_the_tenant(tenant: Tenant, other_tenant: Tenant) -> None:
    with other_tenant.client() as other:
        foreign = create_job(other)
    with tenant.client() as c:
        for parent_id in (str(uuid.uuid4()), foreign["id"], "not-an-id"):
            r = c.post("/v1/jobs", json={"type": "t", "parent_id": parent_id})
            assert error_of(r, 422)["field"] == "parent_id", parent_id
        assert list_all(c) == []


# ---- cancel -------------------------------------------------------------------------------


def test_cancel_of_a_queued_job_is_immediate(client: httpx.Client) -> None:
    job = create_job(client)
    r = client.post(f"/v1/jobs/{job['id']}/cancel")  # no body at all
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "canceled"
    assert r.json()["completed_at"] is not None
    assert [x["status"] for x in executions_of(client, job["id"])] == ["canceled"]
    assert claim(client) == []


def test_cancel_of_a_running_job_is_a_kill_order_the_worker_confirms(
    client: httpx.Client,
) -> None:
    job = create_job(client)
    ex = claim_one(client, lease_s=60)
    r = client.post(f"/v1/jobs/{job['id']}/cancel", json={"reason": "operator asked"})
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "canceling"
    assert r.json()["cancel_requested"] is True
    assert r.json()["kill_order"]["reason"] == "operator asked"

    beat = report(client, ex, expected_version=ex["version"])
    assert beat.status_code == 200, beat.text
    assert beat.json()["cancel_requested"] is True

    done = report(client, ex, status="canceled", expected_version=beat.json()["version"])
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "canceled"
    final = get_job(client, job["id"])
    assert final["status"] == "canceled"
    assert final["completed_at"] is not None


def test_cancel_asked_twice_keeps_one_kill_order(client: httpx.Client) -> None:
    job = create_job(client)
    claim_one(client)
    first = client.post(f"/v1/jobs/{job['id']}/cancel", json={"reason": "one"})
    second = client.post(f"/v1/jobs/{job['id']}/cancel", json={"reason": "two"})
    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json()["status"] == "canceling"
    assert second.json()["kill_order"]["reason"] == "one"


def test_forced_cancel_ends_the_running_execution_at_once(client: httpx.Client) -> None:
    job = create_job(client)
    ex = claim_one(client)
    r = client.post(f"/v1/jobs/{job['id']}/cancel", json={"force": True})
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "canceled"
    late = error_of(report(client, ex, status="succeeded"), 409)
    assert late["execution"]["status"] == "canceled"


def test_cancel_of_a_finished_job_is_a_conflict(client: httpx.Client) -> None:
    job = create_job(client)
    ex = claim_one(client)
    assert report(client, ex, status="succeeded").status_code == 200
    err = error_of(client.post(f"/v1/jobs/{job['id']}/cancel"), 409)
    assert err["job"]["status"] == "succeeded"
    assert get_job(client, job["id"])["status"] == "succeeded"


def test_worker_may_report_canceled_only_after_a_kill_order(client: httpx.Client) -> None:
    create_job(client)
    ex = claim_one(client)
    err = error_of(report(client, ex, status="canceled"), 409)
    assert err["execution"]["status"] == "in_progress"


# ---- retries ------------------------------------------------------------------------------


def test_retry_of_a_failed_job_queues_execution_2(client: httpx.Client) -> None:
    job = create_job(client, max_attempts=1)
    ex1 = claim_one(client)
    assert report(client, ex1, status="failed", error={"message": "boom"}).status_code == 200
    failed = get_job(client, job["id"])
    assert failed["status"] == "failed"
    assert failed["error"] == {"message": "boom"}

    r = client.post(f"/v1/jobs/{job['id']}/retry")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "queued"
    assert r.json()["latest_execution"]["execution_number"] == 2
    ex2 = claim_one(client)
    assert (ex2["job_id"], ex2["execution_number"]) == (job["id"], 2)
    assert report(client, ex2, status="succeeded").status_code == 200
    assert get_job(client, job["id"])["status"] == "succeeded"
    assert [x["status"] for x in executions_of(client, job["id"])] == ["failed", "succeeded"]


def test_retry_of_a_job_that_is_not_failed_is_a_conflict(client: httpx.Client) -> None:
    queued = create_job(client)
    assert error_of(client.post(f"/v1/jobs/{queued['id']}/retry"), 409)["job"]["status"] == (
        "queued"
    )
    ex = claim_one(client)
    assert report(client, ex, status="succeeded").status_code == 200
    err = error_of(client.post(f"/v1/jobs/{queued['id']}/retry"), 409)
    assert err["job"]["status"] == "succeeded"


def test_a_job_failing_max_attempts_times_ends_failed(client: httpx.Client) -> None:
    job = create_job(client, max_attempts=3, backoff_base_s=0)
    for n in (1, 2, 3):
        ex = claim_one(client)
        assert (ex["job_id"], ex["execution_number"]) == (job["id"], n)
        r = report(client, ex, status="failed", error={"attempt": n})
        assert r.status_code == 200, r.text
        assert get_job(client, job["id"])["status"] == ("failed" if n == 3 else "queued")
    assert claim(client) == []
    final = get_job(client, job["id"])
    assert (final["status"], final["attempts"], final["error"]) == ("failed", 3, {"attempt": 3})
    executions = executions_of(client, job["id"])
    assert [(x["execution_number"], x["status"]) for x in executions] == [
        (1, "failed"),
        (2, "failed"),
        (3, "failed"),
    ]


def test_rejected_is_never_retried(client: httpx.Client) -> None:
    job = create_job(client, max_attempts=3, backoff_base_s=0)
    ex = claim_one(client)
    assert report(client, ex, status="rejected").status_code == 200
    assert claim(client) == []
    assert get_job(client, job["id"])["status"] == "rejected"
    assert [x["status"] for x in executions_of(client, job["id"])] == ["rejected"]
    assert error_of(client.post(f"/v1/jobs/{job['id']}/retry"), 409)["job"]["status"] == (
        "rejected"
    )


def test_automatic_retry_waits_for_its_backoff(client: httpx.Client) -> None:
    # Full jitter draws the wait from [0, an hour): under a second one time in 3,600 runs.
    job = create_job(client, max_attempts=2, backoff_base_s=3600, backoff_max_s=86400)
    ex = claim_one(client)
    assert report(client, ex, status="failed").status_code == 200
    failed_at = datetime.now(UTC)
    assert get_job(client, job["id"])["status"] == "queued"
    failed, retry = executions_of(client, job["id"])
    assert (failed["status"], retry["status"]) == ("failed", "queued")
    available = datetime.fromisoformat(retry["available_at"])
    assert failed_at - timedelta(seconds=1) < available < failed_at + timedelta(hours=1)
    if available > datetime.now(UTC) + timedelta(seconds=1):
        assert claim(client) == []  # not before its time


# ---- scheduling and order -----------------------------------------------------------------


def test_scheduled_job_is_claimable_only_from_its_time(client: httpx.Client) -> None:
    at = datetime.now(UTC) + timedelta(seconds=2)
    job = create_job(client, scheduled_at=at.isoformat())
    assert job["status"] == "scheduled"
    assert claim(client) == []
    claimed = claim(client, wait_s=6)
    got_at = datetime.now(UTC)
    assert [x["job_id"] for x in claimed] == [job["id"]]
    assert got_at >= at
    assert got_at - at < timedelta(seconds=2.5)
    assert get_job(client, job["id"])["status"] == "in_progress"


def test_due_scheduled_job_turns_queued(client: httpx.Client) -> None:
    at = datetime.now(UTC) + timedelta(seconds=1)
    job = create_job(client, scheduled_at=at.isoformat())
    deadline = time.monotonic() + 5
    while get_job(client, job["id"])["status"] == "scheduled":
        assert time.monotonic() < deadline, "the sweeper never released the scheduled job"
        time.sleep(0.1)
    assert get_job(client, job["id"])["status"] == "queued"


def test_priority_orders_claims_then_age(client: httpx.Client) -> None:
    old_low = create_job(client, type="old-low", priority=0)
    high = create_job(client, type="high", priority=10)
    new_low = create_job(client, type="new-low", priority=0)
    mid = create_job(client, type="mid", priority=5)
    order = [claim_one(client)["job_id"] for _ in range(4)]
    assert order == [high["id"], mid["id"], old_low["id"], new_low["id"]]


def test_one_claim_hands_out_work_in_priority_order(client: httpx.Client) -> None:
    jobs = create_batch(client, [{"type": "t", "priority": p} for p in (1, 3, 2, 3)])
    got = [x["job_id"] for x in claim(client, max=10)]
    assert got == [jobs[1]["id"], jobs[3]["id"], jobs[2]["id"], jobs[0]["id"]]


# ---- executions list ----------------------------------------------------------------------


def test_executions_list_shows_worker_and_outcome(client: httpx.Client) -> None:
    job = create_job(client)
    ex = claim_one(client, worker={"id": "w-1", "hostname": "box", "pid": 4242})
    r = report(client, ex, status="succeeded", exit_code=0, status_details={"rows": "12"})
    assert r.status_code == 200, r.text
    (only,) = executions_of(client, job["id"])
    assert only["status"] == "succeeded"
    assert (only["worker_id"], only["hostname"], only["pid"]) == ("w-1", "box", 4242)
    assert (only["exit_code"], only["status_details"]) == (0, {"rows": "12"})
    assert only["started_at"] is not None
    assert only["completed_at"] is not None
