"""Steps, progress and counters, reported with worker updates and shown on the job."""

from __future__ import annotations

import threading

import httpx

from tests.support.api import JSON, claim, claim_one, create_job, error_of, get_job, report


def test_steps_declared_then_reported(client: httpx.Client) -> None:
    job = create_job(client, steps=["fetch", "transform", "load"])
    assert [(s["name"], s["status"]) for s in job["steps"]] == [
        ("fetch", "pending"),
        ("transform", "pending"),
        ("load", "pending"),
    ]
    ex = claim_one(client)
    assert report(client, ex, steps=[{"name": "fetch", "status": "in_progress"}]).is_success
    link = {"type": "link", "url": "https://example.com/r/1"}
    r = report(client, ex, steps=[{"name": "fetch", "status": "succeeded", "result": link}])
    assert r.status_code == 200, r.text
    error = {"code": "E1", "title": "bad row", "detail": "row 7"}
    assert report(client, ex, steps=[{"name": "transform", "status": "failed", "error": error}])
    steps = get_job(client, job["id"])["steps"]
    assert [s["status"] for s in steps] == ["succeeded", "failed", "pending"]
    assert steps[0]["result"] == link
    assert steps[0]["started_at"] is not None
    assert steps[0]["completed_at"] is not None
    assert steps[0]["started_at"] <= steps[0]["completed_at"]
    assert steps[1]["error"] == error
    assert steps[2]["started_at"] is None
    # a step not declared before joins at the end
    assert report(client, ex, steps=[{"name": "notify", "status": "skipped"}]).is_success
    assert [s["name"] for s in get_job(client, job["id"])["steps"]][-1] == "notify"


def test_progress_and_counters(client: httpx.Client) -> None:
    job = create_job(client)
    ex = claim_one(client)
    r = report(
        client,
        ex,
        progress={"current": 5, "total": 20, "message": "5 of 20"},
        counters={"num_success": 4, "num_error": 1, "num_pages": 1},
    )
    assert r.status_code == 200, r.text
    report(client, ex, counters={"num_success": 6}, status="succeeded")
    got = get_job(client, job["id"])
    assert got["progress"] == {"current": 5, "total": 20, "message": "5 of 20"}
    assert (got["num_success"], got["num_error"], got["num_pages"]) == (10, 1, 1)
    assert got["status"] == "succeeded"
    listed = client.get("/v1/jobs", params={"num_error_gte": 1}).json()["items"]
    assert [j["id"] for j in listed] == [job["id"]]


def test_concurrent_increments_add_up(client: httpx.Client) -> None:
    create_job(client)
    ex = claim_one(client)

    def add(n: int) -> None:
        for _ in range(n):
            assert report(client, ex, counters={"num_success": 10}).status_code == 200

    threads = [threading.Thread(target=add, args=(50,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert get_job(client, ex["job_id"])["num_success"] == 2000


def test_batches_carry_follow_fields_too(client: httpx.Client) -> None:
    jobs = [create_job(client, steps=["a"]) for _ in range(3)]
    held = claim(client, "default", max=3)
    updates: list[JSON] = [
        {
            "job_id": x["job_id"],
            "execution_number": 1,
            "status": "succeeded",
            "steps": [{"name": "a", "status": "succeeded"}],
            "counters": {"num_export": 7},
        }
        for x in held
    ]
    results = client.post("/v1/executions/batch", json={"updates": updates}).json()["results"]
    assert all(r["ok"] for r in results)
    for j in jobs:
        got = get_job(client, j["id"])
        assert got["num_export"] == 7
        assert got["steps"][0]["status"] == "succeeded"


def test_bad_follow_fields_are_refused(client: httpx.Client) -> None:
    create_job(client)
    ex = claim_one(client)
    for body in (
        {"counters": {"num_bogus": 1}},
        {"counters": {"num_success": -1}},
        {"progress": {"current": -1}},
        {"progress": {"total": 3}},
        {"steps": [{"name": "x", "status": "done"}]},
        {"steps": [{"status": "pending"}]},
    ):
        error = error_of(report(client, ex, **body), 422)
        assert error["field"].split(".")[0] in body, (body, error)
