"""Many clients at once against one real server: claims never overlap, nothing is lost."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.support.api import JSON, Tenant, create_batch, get_job, list_all

CLAIMERS = 4
BATCHES = 2
BATCH_SIZE = 1000
CLAIM_MAX = 50


def drain(tenant: Tenant, key: str, producing: threading.Event, worker: str) -> list[JSON]:
    """Claim in batches and complete each batch in one request, until no work is left."""
    claimed: list[JSON] = []
    with tenant.client(key) as c:
        while True:
            all_created = not producing.is_set()  # before the claim, so an empty answer is final
            r = c.post(
                "/v1/claims",
                json={
                    "queues": ["bulk"],
                    "max": CLAIM_MAX,
                    "lease_s": 120,
                    "wait_s": 0.5,
                    "worker": {"id": worker},
                },
            )
            assert r.status_code == 200, r.text
            executions = r.json()["executions"]
            if not executions:
                if all_created:
                    return claimed
                continue
            claimed.extend(executions)
            updates = [
                {
                    "job_id": x["job_id"],
                    "execution_number": x["execution_number"],
                    "status": "succeeded",
                    "expected_version": x["version"],
                }
                for x in executions
            ]
            done = c.post("/v1/executions/batch", json={"updates": updates})
            assert done.status_code == 200, done.text
            refused = [x for x in done.json()["results"] if not x["ok"]]
            assert refused == [], refused


def test_four_claimers_drain_2000_jobs_exactly_once(tenant: Tenant) -> None:
    worker_key = tenant.new_key("worker")
    producing = threading.Event()
    producing.set()
    with ThreadPoolExecutor(CLAIMERS) as pool, tenant.client() as producer:
        claimers = [
            pool.submit(drain, tenant, worker_key, producing, f"w{i}") for i in range(CLAIMERS)
        ]
        created: list[JSON] = []
        for b in range(BATCHES):
            batch = [
                {"type": "bulk", "queue": "bulk", "params": {"b": b, "i": i}}
                for i in range(BATCH_SIZE)
            ]
            created.extend(create_batch(producer, batch))
        producing.clear()
        per_claimer = [f.result(timeout=240) for f in claimers]

    pairs = Counter((x["job_id"], x["execution_number"]) for got in per_claimer for x in got)
    twice = [pair for pair, n in pairs.items() if n > 1]
    assert twice == [], f"claimed more than once: {twice[:5]}"
    assert {job_id for job_id, _ in pairs} == {j["id"] for j in created}
    assert {n for _, n in pairs} == {1}
    assert sum(1 for got in per_claimer if got) > 1, "one claimer did all the work"

    with tenant.client() as c:
        succeeded = list_all(c, status="succeeded")
        assert len(succeeded) == BATCHES * BATCH_SIZE
        assert {j["id"] for j in succeeded} == {j["id"] for j in created}
        assert list_all(c, status_in="queued,in_progress,failed,timed_out") == []


def _at_once(
    tenant: Tenant, n: int, send: Callable[[httpx.Client, int], httpx.Response]
) -> list[httpx.Response]:
    """`send` from `n` connections released together by a barrier."""
    barrier = threading.Barrier(n)

    def one(i: int) -> httpx.Response:
        with tenant.client() as c:
            barrier.wait()
            return send(c, i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_concurrent_creates_with_one_idempotency_key_make_one_job(tenant: Tenant) -> None:
    for round_ in range(3):
        headers = {"Idempotency-Key": f"race-{round_}"}

        def send(c: httpx.Client, _: int, headers: dict[str, str] = headers) -> httpx.Response:
            return c.post("/v1/jobs", json={"type": "t"}, headers=headers)

        answers = _at_once(tenant, 8, send)
        codes = sorted(r.status_code for r in answers)
        assert codes == [200] * 7 + [201], [r.text for r in answers]
        assert len({r.json()["id"] for r in answers}) == 1
    with tenant.client() as c:
        assert len(list_all(c)) == 3


def test_concurrent_creates_with_one_key_and_different_bodies(tenant: Tenant) -> None:
    answers = _at_once(
        tenant,
        8,
        lambda c, i: c.post(
            "/v1/jobs", json={"type": "t", "params": {"i": i}}, headers={"Idempotency-Key": "k"}
        ),
    )
    assert sorted(r.status_code for r in answers) == [201] + [409] * 7, [r.text for r in answers]
    with tenant.client() as c:
        assert len(list_all(c)) == 1


def test_cancel_racing_claims_leaves_every_job_consistent(tenant: Tenant) -> None:
    """Cancels sent while workers claim: a job canceled first is never handed out; a job
    claimed first turns canceling and its worker hears so on its next heartbeat."""
    with tenant.client() as c:
        jobs = create_batch(c, [{"type": "t"} for _ in range(40)])
    claimed: list[JSON] = []

    def send(c: httpx.Client, i: int) -> httpx.Response:
        if i % 2:
            r = c.post("/v1/claims", json={"queues": ["default"], "max": 10})
            claimed.extend(r.json()["executions"])
            return r
        for job in jobs[(i // 2) * 10 : (i // 2) * 10 + 10]:
            r = c.post(f"/v1/jobs/{job['id']}/cancel")
            assert r.status_code == 202, r.text
        return r

    answers = _at_once(tenant, 8, send)
    assert all(r.status_code in {200, 202} for r in answers)
    with tenant.client() as c:
        for ex in claimed:
            beat = c.patch(f"/v1/jobs/{ex['job_id']}/executions/{ex['execution_number']}", json={})
            if beat.status_code == 200:
                assert beat.json()["cancel_requested"] is True
                assert get_job(c, ex["job_id"])["status"] == "canceling"
            else:
                assert beat.json()["error"]["execution"]["status"] == "canceled"
        statuses = Counter(j["status"] for j in list_all(c))
        assert set(statuses) <= {"canceled", "canceling"}, statuses
        assert statuses["canceling"] == len(claimed)
        assert sum(statuses.values()) == 40
