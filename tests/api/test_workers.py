"""The worker protocol over real HTTP: claims with long-poll, updates with fencing, batches."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx

from jobyard.api.schemas.executions import BatchUpdateOut, ClaimOut
from tests.support.api import (
    JSON,
    Tenant,
    claim,
    claim_one,
    create_batch,
    create_job,
    error_of,
    executions_of,
    get_job,
    report,
    wait_until,
)

# ---- claims -------------------------------------------------------------------------------


def test_claim_hands_out_what_the_worker_needs(client: httpx.Client) -> None:
    job = create_job(client, type="resize", params={"w": 100}, document={"op": "resize"})
    ex = claim_one(client, lease_s=45, worker={"id": "w-9", "hostname": "h", "pid": 7})
    assert ex["job_id"] == job["id"]
    assert (ex["execution_number"], ex["type"]) == (1, "resize")
    assert (ex["params"], ex["document"]) == ({"w": 100}, {"op": "resize"})
    assert ex["lease_s"] == 45
    assert isinstance(ex["version"], int)
    lease_left = datetime.fromisoformat(ex["lease_expires_at"]) - datetime.fromisoformat(
        get_job(client, job["id"])["started_at"]
    )
    assert 44 <= lease_left.total_seconds() <= 46
    assert get_job(client, job["id"])["status"] == "in_progress"


def test_claim_takes_only_the_named_queues_and_types(client: httpx.Client) -> None:
    create_batch(
        client,
        [
            {"type": "a", "queue": "q1"},
            {"type": "b", "queue": "q1"},
            {"type": "a", "queue": "q2"},
        ],
    )
    assert [x["type"] for x in claim(client, "q1", types=["b"], max=5)] == ["b"]
    assert [(x["queue"], x["type"]) for x in claim(client, "q2", max=5)] == [("q2", "a")]
    assert [x["type"] for x in claim(client, "q1", max=5)] == ["a"]
    assert claim(client, "q1", max=5) == []


def test_claim_max_bounds_one_answer(client: httpx.Client) -> None:
    create_batch(client, [{"type": "t"} for _ in range(7)])
    assert len(claim(client, max=5)) == 5
    assert len(claim(client, max=5)) == 2


def test_claim_refuses_out_of_range_settings(client: httpx.Client) -> None:
    for field, value in (("max", 0), ("max", 501), ("lease_s", 0), ("lease_s", 43201)):
        r = client.post("/v1/claims", json={"queues": ["default"], field: value})
        assert error_of(r, 422)["field"] == field, (field, value)
    for field, value in (("wait_s", -1), ("wait_s", 31)):
        r = client.post("/v1/claims", json={"queues": ["default"], field: value})
        assert error_of(r, 422)["field"] == field, (field, value)
    assert error_of(client.post("/v1/claims", json={}), 422)["field"] == "queues"
    assert error_of(client.post("/v1/claims", json={"queues": []}), 422)["field"] == "queues"


# ---- long-poll ----------------------------------------------------------------------------


def _timed_claim(c: httpx.Client, queue: str, wait_s: float) -> tuple[list[JSON], float]:
    """Claim, and answer when the answer came (monotonic clock)."""
    return claim(c, queue, wait_s=wait_s), time.monotonic()


def test_long_poll_answers_as_soon_as_a_job_arrives(tenant: Tenant) -> None:
    with tenant.client() as worker, tenant.client() as producer, ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(_timed_claim, worker, "inbox", 5)
        time.sleep(0.5)  # the claim is waiting by now
        job = create_job(producer, queue="inbox")
        created_at = time.monotonic()
        claimed, answered_at = waiting.result(timeout=10)
    assert [x["job_id"] for x in claimed] == [job["id"]]
    assert answered_at - created_at < 0.5


def test_long_poll_with_no_work_answers_empty_after_wait_s(client: httpx.Client) -> None:
    start = time.monotonic()
    assert claim(client, "nothing-here", wait_s=2) == []
    assert 1.9 <= time.monotonic() - start < 3.5


def test_long_poll_is_not_woken_by_another_tenant(tenant: Tenant, other_tenant: Tenant) -> None:
    with tenant.client() as worker, other_tenant.client() as other, ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(claim, worker, "shared-name", wait_s=1.5)
        time.sleep(0.3)
        create_job(other, queue="shared-name")
        assert waiting.result(timeout=10) == []


# ---- updates ------------------------------------------------------------------------------


def test_progress_report_renews_the_lease_and_bumps_the_version(client: httpx.Client) -> None:
    create_job(client)
    ex = claim_one(client, lease_s=30)
    time.sleep(0.2)
    r = report(client, ex, expected_version=ex["version"], status_details={"step": "2/3"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == ex["version"] + 1
    assert body["status"] == "in_progress"
    assert body["status_details"] == {"step": "2/3"}
    assert body["cancel_requested"] is False
    assert body["lease_expires_at"] > ex["lease_expires_at"]


def test_update_may_extend_the_lease(client: httpx.Client) -> None:
    create_job(client)
    ex = claim_one(client, lease_s=5)
    r = report(client, ex, lease_s=600)
    assert r.status_code == 200, r.text
    assert r.json()["lease_s"] == 600
    lease = datetime.fromisoformat(r.json()["lease_expires_at"])
    updated = datetime.fromisoformat(r.json()["last_updated_at"])
    assert 599 <= (lease - updated).total_seconds() <= 601


def test_outcome_carries_result_to_the_job(client: httpx.Client) -> None:
    job = create_job(client)
    ex = claim_one(client)
    r = report(client, ex, status="succeeded", result={"url": "s3://bucket/out.csv"})
    assert r.status_code == 200, r.text
    done = get_job(client, job["id"])
    assert (done["status"], done["result"]) == ("succeeded", {"url": "s3://bucket/out.csv"})
    assert done["completed_at"] is not None


def test_stale_expected_version_is_refused_with_the_current_state(client: httpx.Client) -> None:
    create_job(client)
    ex = claim_one(client)
    assert report(client, ex, expected_version=ex["version"]).status_code == 200
    err = error_of(report(client, ex, status="succeeded", expected_version=ex["version"]), 409)
    assert err["execution"]["version"] == ex["version"] + 1
    assert err["execution"]["status"] == "in_progress"
    assert "version" in err["message"]


def test_two_updates_with_the_same_version_one_wins(client: httpx.Client, tenant: Tenant) -> None:
    """Sent at the same moment from two connections: exactly one 200, the other 409."""
    create_batch(client, [{"type": "t"} for _ in range(10)])
    for ex in claim(client, max=10):
        barrier = threading.Barrier(2)

        def send(
            status: str, ex: JSON = ex, barrier: threading.Barrier = barrier
        ) -> tuple[int, JSON]:
            with tenant.client() as c:
                barrier.wait()
                r = report(c, ex, status=status, expected_version=ex["version"])
                return r.status_code, r.json()

        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(send, ["succeeded", "failed"]))
        codes = sorted(code for code, _ in answers)
        assert codes == [200, 409], answers
        (winner,) = [body for code, body in answers if code == 200]
        (loser,) = [body for code, body in answers if code == 409]
        assert loser["error"]["execution"]["status"] == winner["status"]
        assert loser["error"]["execution"]["version"] == winner["version"]


def test_two_progress_reports_with_the_same_version_one_wins(client: httpx.Client) -> None:
    create_job(client)
    ex = claim_one(client)
    first = report(client, ex, expected_version=ex["version"], status_details={"n": "1"})
    second = report(client, ex, expected_version=ex["version"], status_details={"n": "2"})
    assert first.status_code == 200, first.text
    err = error_of(second, 409)
    assert err["execution"]["status_details"] == {"n": "1"}
    assert err["execution"]["version"] == first.json()["version"]


def test_any_write_to_a_terminal_execution_is_refused(client: httpx.Client) -> None:
    create_job(client, max_attempts=1)
    ex = claim_one(client)
    done = report(client, ex, status="succeeded")
    assert done.status_code == 200, done.text
    version = done.json()["version"]
    for body in (
        {},
        {"status": "in_progress"},
        {"status": "succeeded"},
        {"status": "failed"},
        {"status": "rejected"},
        {"status": "canceled"},
        {"status": "failed", "expected_version": version},
        {"status_details": {"a": "b"}},
        {"result": {"x": 1}},
    ):
        err = error_of(report(client, ex, **body), 409)
        assert err["execution"]["status"] == "succeeded", body
        assert err["execution"]["version"] == version, body


def test_update_of_an_unclaimed_execution_is_refused(client: httpx.Client) -> None:
    job = create_job(client)
    r = client.patch(f"/v1/jobs/{job['id']}/executions/1", json={"status": "succeeded"})
    assert error_of(r, 409)["execution"]["status"] == "queued"


def test_update_of_a_missing_execution_is_404(client: httpx.Client) -> None:
    job = create_job(client)
    claim_one(client)
    r = client.patch(f"/v1/jobs/{job['id']}/executions/2", json={"status": "succeeded"})
    assert error_of(r, 404)["code"] == "not_found"


def test_workers_may_not_report_server_statuses(client: httpx.Client) -> None:
    create_job(client)
    ex = claim_one(client)
    for status in ("timed_out", "removed", "scheduled", "done"):
        assert error_of(report(client, ex, status=status), 422)["field"] == "status", status
    assert report(client, ex, status="succeeded").status_code == 200


def test_a_holder_hands_an_execution_back_and_it_is_claimable_at_once(
    client: httpx.Client,
) -> None:
    job = create_job(client)
    ex = claim_one(client, worker={"id": "w-1", "hostname": "h", "pid": 1})
    back = report(client, ex, status="queued", worker_id="w-1")
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "queued"
    assert back.json()["worker_id"] is None
    assert client.get(f"/v1/jobs/{job['id']}").json()["status"] == "queued"
    again = claim_one(client, worker={"id": "w-2"})
    assert (again["job_id"], again["execution_number"]) == (job["id"], 1)
    assert again["version"] > back.json()["version"]
    # the first holder is fenced out: the execution is someone else's now
    late = report(client, ex, status="succeeded", worker_id="w-1")
    body = error_of(late, 409)
    assert body["reason"] == "not_lease_holder"
    assert body["execution"]["worker_id"] == "w-2"
    assert report(client, again, status="succeeded", worker_id="w-2").status_code == 200
    assert [x["status"] for x in executions_of(client, job["id"])] == ["succeeded"]


def test_handing_back_a_job_with_a_kill_order_cancels_it(client: httpx.Client) -> None:
    job = create_job(client)
    ex = claim_one(client)
    assert client.post(f"/v1/jobs/{job['id']}/cancel").status_code == 202
    back = report(client, ex, status="queued")
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "canceled"
    assert client.get(f"/v1/jobs/{job['id']}").json()["status"] == "canceled"


def test_batch_updates_are_fenced_by_worker_id(client: httpx.Client) -> None:
    jobs = [create_job(client) for _ in range(3)]
    held = client.post(
        "/v1/claims", json={"queues": ["default"], "max": 3, "worker": {"id": "w-1"}}
    ).json()["executions"]
    assert len(held) == 3
    updates = [
        {"job_id": x["job_id"], "execution_number": 1, "status": "succeeded", "worker_id": who}
        for x, who in zip(held, ["w-1", "w-2", "w-1"], strict=True)
    ]
    results = client.post("/v1/executions/batch", json={"updates": updates}).json()["results"]
    assert [r["ok"] for r in results] == [True, False, True]
    assert results[1]["error"]["code"] == "not_lease_holder"
    statuses = {j["id"]: client.get(f"/v1/jobs/{j['id']}").json()["status"] for j in jobs}
    assert sorted(statuses.values()) == ["in_progress", "succeeded", "succeeded"]


def test_a_claim_answer_is_what_its_model_writes(client: httpx.Client) -> None:
    """Params and documents as they were given, times as pydantic writes them, kill orders."""
    params = {"n": 1, "f": 0.25, "deep": {"list": [1, "two", None, True]}, "text": "é\u2028"}
    made = [
        create_job(client, params=params, document={"steps": ["a"]}),
        create_job(client, params={}, priority=7, lease_s=90),
    ]
    answer = client.post(
        "/v1/claims", json={"queues": ["default"], "max": 5, "worker": {"id": "w-1"}}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert ClaimOut.model_validate(body).model_dump(mode="json") == body
    second, first = body["executions"]  # the higher priority first
    assert (first["job_id"], first["params"], first["document"]) == (
        made[0]["id"],
        params,
        {"steps": ["a"]},
    )
    assert (second["priority"], second["lease_s"], second["document"]) == (7, 90, None)
    assert first["lease_expires_at"].endswith("Z")
    assert datetime.fromisoformat(first["lease_expires_at"]) > datetime.now(UTC)
    assert body["cancel_requested"] == []
    assert client.post(f"/v1/jobs/{made[0]['id']}/cancel").status_code == 202
    again = client.post("/v1/claims", json={"queues": ["default"], "worker": {"id": "w-1"}})
    assert again.json() == {
        "executions": [],
        "cancel_requested": [{"job_id": made[0]["id"], "execution_number": 1}],
    }


def test_a_batch_answer_is_what_its_model_writes_minimal_or_whole(client: httpx.Client) -> None:
    """Applied results answered minimally, whole, and a refusal: every result has the same
    keys, and the answer is exactly what `BatchUpdateOut` writes of itself."""
    for job in (create_job(client) for _ in range(4)):
        assert job["status"] == "queued"
    held = client.post(
        "/v1/claims", json={"queues": ["default"], "max": 4, "worker": {"id": "w-1"}}
    ).json()["executions"]
    first, second = (
        [{"job_id": x["job_id"], "execution_number": 1, "status": "succeeded"} for x in pair]
        for pair in (held[:2], held[2:])
    )
    first[1]["worker_id"] = "w-2"  # refused: not the lease holder
    for updates, minimal in ((first, True), (second, False)):
        headers = {"Prefer": "return=minimal"} if minimal else {}
        answer = client.post("/v1/executions/batch", json={"updates": updates}, headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert BatchUpdateOut.model_validate(body).model_dump(mode="json") == body
        keys = {"job_id", "execution_number", "ok", "cancel_requested", "execution", "error"}
        assert all(set(r) == keys for r in body["results"])
        assert [r["job_id"] for r in body["results"]] == [u["job_id"] for u in updates]
        if minimal:
            ok, refused = body["results"]
            assert (ok["ok"], ok["execution"], ok["error"]) == (True, None, None)
            assert (refused["ok"], refused["error"]["code"]) == (False, "not_lease_holder")
            assert refused["execution"]["status"] == "in_progress"
        else:
            assert [r["execution"]["status"] for r in body["results"]] == ["succeeded"] * 2
            assert [r["error"] for r in body["results"]] == [None, None]


# ---- lease expiry -------------------------------------------------------------------------


def test_unrenewed_lease_times_out_and_the_job_runs_again(client: httpx.Client) -> None:
    job = create_job(client, backoff_base_s=0)
    first = claim_one(client, lease_s=1)
    claimed_at = time.monotonic()

    def first_timed_out() -> bool:
        return bool(executions_of(client, job["id"])[0]["status"] == "timed_out")

    wait_until(first_timed_out, timeout_s=10)
    # noticed within about a second of the deadline (plus polling slack)
    assert time.monotonic() - claimed_at < 1 + 1.5
    second = claim_one(client, lease_s=30)
    assert (second["job_id"], second["execution_number"]) == (job["id"], 2)

    late = error_of(
        report(client, first, status="succeeded", expected_version=first["version"]), 409
    )
    assert late["execution"]["execution_number"] == 1
    assert late["execution"]["status"] == "timed_out"

    assert report(client, second, status="succeeded").status_code == 200
    assert get_job(client, job["id"])["status"] == "succeeded"
    statuses = [(x["execution_number"], x["status"]) for x in executions_of(client, job["id"])]
    assert statuses == [(1, "timed_out"), (2, "succeeded")]


def test_renewed_lease_does_not_time_out(client: httpx.Client) -> None:
    job = create_job(client)
    ex = claim_one(client, lease_s=2)
    version = ex["version"]
    for _ in range(6):  # 3 s in all, well past the 2 s lease, renewed every 0.5 s
        time.sleep(0.5)
        r = report(client, ex, expected_version=version)
        assert r.status_code == 200, r.text
        version = r.json()["version"]
    assert report(client, ex, status="succeeded", expected_version=version).status_code == 200
    assert [x["status"] for x in executions_of(client, job["id"])] == ["succeeded"]


def test_in_progress_timeout_ends_the_execution(client: httpx.Client) -> None:
    job = create_job(client, timeout_s=1, max_attempts=1)
    ex = claim_one(client, lease_s=60)
    wait_until(lambda: get_job(client, job["id"])["status"] == "timed_out", timeout_s=10)
    assert error_of(report(client, ex), 409)["execution"]["status"] == "timed_out"


# ---- batches of updates -------------------------------------------------------------------


def test_batch_updates_are_judged_one_by_one(client: httpx.Client) -> None:
    jobs = create_batch(client, [{"type": "t"} for _ in range(3)])
    a, b, c = claim(client, max=3)
    r = client.post(
        "/v1/executions/batch",
        json={
            "updates": [
                {"job_id": a["job_id"], "execution_number": 1, "status": "succeeded"},
                {
                    "job_id": b["job_id"],
                    "execution_number": 1,
                    "status": "succeeded",
                    "expected_version": b["version"] + 5,
                },
                {"job_id": c["job_id"], "execution_number": 9, "status": "succeeded"},
                {"job_id": "not-an-id", "execution_number": 1, "status": "succeeded"},
                {"job_id": c["job_id"], "execution_number": 1, "result": {"partial": True}},
            ]
        },
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["ok"] for x in results] == [True, False, False, False, True]
    assert results[0]["execution"]["status"] == "succeeded"
    assert results[1]["error"]["code"] == "version_mismatch"
    assert results[1]["execution"]["version"] == b["version"]
    assert results[2]["error"]["code"] == "not_found"
    assert results[3]["error"]["code"] == "not_found"
    by_id = {j["id"]: get_job(client, j["id"])["status"] for j in jobs}
    assert by_id == {
        a["job_id"]: "succeeded",
        b["job_id"]: "in_progress",
        c["job_id"]: "in_progress",
    }


def test_batch_update_to_a_finished_execution_says_so(client: httpx.Client) -> None:
    create_job(client)
    ex = claim_one(client)
    assert report(client, ex, status="succeeded").status_code == 200
    r = client.post(
        "/v1/executions/batch",
        json={"updates": [{"job_id": ex["job_id"], "execution_number": 1, "status": "failed"}]},
    )
    assert r.status_code == 200, r.text
    (result,) = r.json()["results"]
    assert result["ok"] is False
    assert result["error"]["code"] == "terminal_state"
    assert result["execution"]["status"] == "succeeded"


def test_batch_heartbeat_answers_cancel_requested(client: httpx.Client) -> None:
    job = create_job(client)
    ex = claim_one(client)
    assert client.post(f"/v1/jobs/{job['id']}/cancel").status_code == 202
    r = client.post(
        "/v1/executions/batch",
        json={"updates": [{"job_id": ex["job_id"], "execution_number": 1}]},
    )
    (result,) = r.json()["results"]
    assert (result["ok"], result["cancel_requested"]) == (True, True)


def test_batch_of_updates_is_bounded(client: httpx.Client) -> None:
    update = {"job_id": "x", "execution_number": 1}
    assert error_of(client.post("/v1/executions/batch", json={"updates": []}), 422)
    r = client.post("/v1/executions/batch", json={"updates": [update] * 1001})
    assert error_of(r, 422)["field"] == "updates"


def test_a_long_poll_answers_a_new_kill_order_for_its_worker_at_once(
    client: httpx.Client,
) -> None:
    job = create_job(client)
    ex = claim_one(client, worker={"id": "busy-worker"})
    result: list[JSON] = []

    def wait_for_orders() -> None:
        params: dict[str, str | int] = {"queues": "default", "wait_s": 10}
        result.append(client.get("/v1/workers/busy-worker/kill-orders", params=params).json())

    poll = threading.Thread(target=wait_for_orders)
    poll.start()
    time.sleep(0.3)
    asked = time.monotonic()
    assert client.post(f"/v1/jobs/{job['id']}/cancel").status_code == 202
    poll.join(15)
    assert time.monotonic() - asked < 2
    assert result[0]["cancel_requested"] == [
        {"job_id": ex["job_id"], "execution_number": ex["execution_number"]}
    ]
    # a kill order the worker was already told of is in every answer, but ends no wait early
    started = time.monotonic()
    body = {"queues": ["default"], "wait_s": 1, "worker": {"id": "busy-worker"}}
    again = client.post("/v1/claims", json=body).json()
    assert time.monotonic() - started >= 0.9
    assert again["executions"] == []
    assert len(again["cancel_requested"]) == 1
    other = client.get("/v1/workers/someone-else/kill-orders", params={"queues": "default"})
    assert other.json() == {"cancel_requested": []}
