"""Log lines and record errors sent with execution updates: written only when the update
applies, numbered with the job's other lines, seen by a tail before the job's end."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from tests.api.test_logs import append, read_sse
from tests.support.api import (
    JSON,
    Tenant,
    claim,
    claim_one,
    create_batch,
    create_job,
    error_of,
    execution_path,
    report,
)


def lines(*data: str, source: str = "stdout") -> list[JSON]:
    return [{"source": source, "data": d} for d in data]


def log_of(c: httpx.Client, job_id: str) -> list[tuple[int, int, str, str]]:
    r = c.get(f"/v1/jobs/{job_id}/logs")
    assert r.status_code == 200, r.text
    return [(e["seq"], e["execution_number"], e["source"], e["data"]) for e in r.json()["entries"]]


def batch(c: httpx.Client, updates: list[JSON]) -> list[JSON]:
    r = c.post("/v1/executions/batch", json={"updates": updates})
    assert r.status_code == 200, r.text
    results: list[JSON] = r.json()["results"]
    return results


def test_lines_of_updates_join_the_log_in_order(client: httpx.Client) -> None:
    job = create_job(client)
    ex = claim_one(client)
    assert append(client, ex, ["from the logs route"]) == 1
    stamped = {"source": "stderr", "data": "stamped", "ts": "2030-01-02T03:04:05Z"}
    r = report(client, ex, logs=[*lines("a", "b"), stamped], progress={"current": 1})
    assert r.status_code == 200, r.text
    r = report(client, ex, status="succeeded", logs=lines("last"))
    assert r.status_code == 200, r.text
    assert log_of(client, job["id"]) == [
        (1, 1, "stdout", "from the logs route"),
        (2, 1, "stdout", "a"),
        (3, 1, "stdout", "b"),
        (4, 1, "stderr", "stamped"),
        (5, 1, "stdout", "last"),
    ]
    entries = client.get(f"/v1/jobs/{job['id']}/logs").json()["entries"]
    assert entries[3]["ts"] == "2030-01-02T03:04:05Z"
    assert entries[4]["ts"] < "2030"  # the server's clock, when a line gives no time


def test_a_refused_update_appends_nothing(client: httpx.Client, other_tenant: Tenant) -> None:
    job = create_job(client)
    ex = claim_one(client, worker={"id": "w-1"})
    refused = [
        ({"expected_version": ex["version"] + 5}, "version_mismatch"),
        ({"worker_id": "w-2"}, "not_lease_holder"),
        ({"status": "canceled"}, "invalid_transition"),
    ]
    for fields, reason in refused:
        r = report(client, ex, logs=lines(f"not after {reason}"), **fields)
        assert error_of(r, 409)["reason"] == reason
    with other_tenant.client() as theirs:
        r = theirs.patch(execution_path(ex), json={"logs": lines("from another tenant")})
        assert error_of(r, 404)["code"] == "not_found"
    assert log_of(client, job["id"]) == []
    assert report(client, ex, status="succeeded", logs=lines("the end")).status_code == 200
    late = report(client, ex, status="succeeded", logs=lines("after the end"))
    assert error_of(late, 409)["reason"] == "terminal_state"
    assert log_of(client, job["id"]) == [(1, 1, "stdout", "the end")]


def test_a_batch_appends_the_lines_of_the_updates_that_apply(client: httpx.Client) -> None:
    jobs = [create_job(client) for _ in range(3)]
    held = {ex["job_id"]: ex for ex in claim(client, max=3)}
    one, two, three = (held[j["id"]] for j in jobs)

    def at(ex: JSON, **fields: Any) -> JSON:
        return {"job_id": ex["job_id"], "execution_number": ex["execution_number"], **fields}

    bad = {"message": "row 7 has no id", "code": "E_ID", "data": {"row": 7}}
    results = batch(
        client,
        [
            at(one, logs=lines("1a", "1b"), progress={"current": 1}),
            at(two, logs=lines("2a"), expected_version=two["version"] + 1),
            at(three, status="succeeded", logs=lines("3a"), record_errors=[bad]),
            at(one, status="failed", logs=lines("1c"), error={"message": "no"}),
            at(two, status="succeeded", logs=lines("2b"), record_errors=[bad]),
        ],
    )
    assert [r["ok"] for r in results] == [True, False, True, True, True]
    assert [d for *_, d in log_of(client, one["job_id"])] == ["1a", "1b", "1c"]
    assert [s for s, *_ in log_of(client, one["job_id"])] == [1, 2, 3]
    assert log_of(client, two["job_id"]) == [(1, 1, "stdout", "2b")]
    assert log_of(client, three["job_id"]) == [(1, 1, "stdout", "3a")]
    for ex in (two, three):
        items = client.get(f"/v1/jobs/{ex['job_id']}/record-errors").json()["items"]
        assert [(e["code"], e["data"], e["execution_number"]) for e in items] == [
            ("E_ID", {"row": 7}, 1)
        ]
    assert client.get(f"/v1/jobs/{one['job_id']}/record-errors").json()["items"] == []


def test_lines_of_a_refused_batch_update_are_not_written(client: httpx.Client) -> None:
    job = create_job(client)
    ex = claim_one(client)
    assert report(client, ex, status="succeeded").status_code == 200
    (result,) = batch(
        client,
        [
            {
                "job_id": ex["job_id"],
                "execution_number": 1,
                "logs": lines("late"),
                "record_errors": [{"message": "late"}],
            }
        ],
    )
    assert result["ok"] is False
    assert result["error"]["code"] == "terminal_state"
    assert log_of(client, job["id"]) == []
    assert client.get(f"/v1/jobs/{job['id']}/record-errors").json()["items"] == []


def test_a_tail_sees_the_lines_of_the_completion_before_the_end(client: httpx.Client) -> None:
    job = create_job(client)
    got: list[Any] = []
    seen_first = threading.Event()

    def tail() -> None:
        class Watch(list[Any]):
            def append(self, item: Any) -> None:
                super().append(item)
                seen_first.set()

        events = Watch()
        read_sse(client, job["id"], events=events)
        got.extend(events)

    reader = threading.Thread(target=tail)
    reader.start()
    ex = claim_one(client)
    r = report(client, ex, logs=lines("started"))
    assert r.status_code == 200, r.text
    assert seen_first.wait(10), "the tail must see a line sent with a progress update"
    last = [{"job_id": ex["job_id"], "execution_number": 1, "status": "succeeded"}]
    last[0]["logs"] = lines(*(f"line {i}" for i in range(1000)))
    (result,) = batch(client, last)
    assert result["ok"], result
    reader.join(30)
    assert not reader.is_alive(), "the tail must end when the job does"
    assert got[-1] == ("end", None)
    assert [i for i, _ in got[:-1]] == list(range(1, 1002))
    assert [e["data"] for _, e in got[1:-1]] == [f"line {i}" for i in range(1000)]


def test_lines_sent_with_updates_are_bounded_and_checked(client: httpx.Client) -> None:
    job = create_job(client)
    ex = claim_one(client)
    too_many = report(client, ex, logs=lines(*["x"] * 1001))
    assert error_of(too_many, 422)["field"] == "logs"
    bad_source = client.post(
        "/v1/executions/batch",
        json={
            "updates": [
                {"job_id": ex["job_id"], "execution_number": 1, "logs": lines("a", source="x")}
            ]
        },
    )
    assert error_of(bad_source, 422)["field"] == "updates.0.logs.0.source"
    nul = report(client, ex, logs=lines("a\x00b"))
    assert error_of(nul, 422)["field"].startswith("logs.0.data")
    errors = [{"message": "m"}] * 1001
    assert error_of(report(client, ex, record_errors=errors), 422)["field"] == "record_errors"
    assert log_of(client, job["id"]) == []  # a refused request writes nothing at all
    long = report(client, ex, logs=lines("y" * (70 * 1024)))
    assert long.status_code == 200, long.text
    ((_, _, _, data),) = log_of(client, job["id"])
    assert data.startswith("y" * 1000)
    assert "truncated" in data
    assert len(data.encode()) < 65 * 1024


def test_a_worker_key_writes_lines_only_with_its_own_executions(tenant: Tenant) -> None:
    worker_a, worker_b = tenant.new_key("worker"), tenant.new_key("worker")
    with tenant.client() as admin:
        job = create_job(admin)
    with tenant.client(worker_a) as a, tenant.client(worker_b) as b:
        ex = claim_one(a)
        r = report(b, ex, logs=lines("not mine"))
        assert error_of(r, 409)["reason"] == "not_lease_holder"
        assert report(a, ex, status="succeeded", logs=lines("mine")).status_code == 200
    with tenant.client() as admin:
        assert log_of(admin, job["id"]) == [(1, 1, "stdout", "mine")]


def test_a_batch_of_many_jobs_wakes_their_tails_in_announcements_that_fit(
    tenant: Tenant,
) -> None:
    """PostgreSQL's NOTIFY takes under 8,000 bytes: the tails of 300 jobs are announced in
    several, none refused."""
    seen = len(tenant.server.log())
    with tenant.client() as c:
        created = create_batch(c, [{"type": "t", "queue": "many"} for _ in range(300)])
        held = claim(c, "many", max=300)
        assert len(held) == 300
        results = batch(
            c,
            [
                {
                    "job_id": ex["job_id"],
                    "execution_number": 1,
                    "status": "succeeded",
                    "logs": lines(f"done {ex['job_id']}"),
                }
                for ex in held
            ],
        )
        assert all(r["ok"] for r in results)
        for job in (created[0], created[-1]):
            assert log_of(c, job["id"]) == [(1, 1, "stdout", f"done {job['id']}")]
    assert "notify failed" not in tenant.server.log()[seen:]
