"""Logs over HTTP: appends, bounded reads, the live tail (SSE), and the download."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx

from tests.support.api import JSON, claim_one, create_job, error_of, execution_path, report


def append(c: httpx.Client, ex: JSON, lines: list[str], source: str = "stdout") -> int:
    r = c.post(
        execution_path(ex) + "/logs",
        json={"entries": [{"source": source, "data": d} for d in lines]},
    )
    assert r.status_code == 200, r.text
    last: int = r.json()["last_seq"]
    return last


def read_sse(
    c: httpx.Client,
    job_id: str,
    headers: dict[str, str] | None = None,
    events: list[Any] | None = None,
) -> list[Any]:
    """Every event of a tail until it ends: (id, entry) pairs, then ("end", None). With
    `events`, each is appended there as it arrives."""
    events = [] if events is None else events
    with c.stream("GET", f"/v1/jobs/{job_id}/logs/stream", headers=headers, timeout=60) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        event: dict[str, str] = {}
        for line in r.iter_lines():
            if line == "":
                if "data" in event:
                    if event.get("event") == "end":
                        events.append(("end", None))
                    else:
                        events.append((int(event["id"]), json.loads(event["data"])))
                event = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            event[name] = value
    return events


def test_append_and_read(client: httpx.Client) -> None:
    job = create_job(client)
    ex = claim_one(client)
    assert append(client, ex, [f"l{i}" for i in range(10)]) == 10
    assert append(client, ex, ["oops"], source="stderr") == 11
    body = client.get(f"/v1/jobs/{job['id']}/logs").json()
    assert [e["seq"] for e in body["entries"]] == list(range(1, 12))
    assert body["entries"][-1] == body["entries"][-1] | {"source": "stderr", "data": "oops"}
    assert body["last_seq"] == 11
    newest = client.get(f"/v1/jobs/{job['id']}/logs", params={"limit": 3}).json()
    assert [e["data"] for e in newest["entries"]] == ["l8", "l9", "oops"]
    after = client.get(f"/v1/jobs/{job['id']}/logs", params={"after": 8, "limit": 2}).json()
    assert [e["seq"] for e in after["entries"]] == [9, 10]


def test_long_lines_are_truncated_with_a_marker(client: httpx.Client) -> None:
    job = create_job(client)
    ex = claim_one(client)
    append(client, ex, ["x" * (70 * 1024)])
    (entry,) = client.get(f"/v1/jobs/{job['id']}/logs").json()["entries"]
    assert entry["data"].startswith("x" * 1000)
    assert "truncated" in entry["data"]
    assert len(entry["data"].encode()) < 65 * 1024


def test_bad_appends_are_refused(client: httpx.Client, other_tenant: Any) -> None:
    job = create_job(client)
    ex = claim_one(client)
    bad = client.post(
        execution_path(ex) + "/logs", json={"entries": [{"source": "x", "data": "a"}]}
    )
    assert error_of(bad, 422)["field"].startswith("entries")
    missing = client.post(
        f"/v1/jobs/{job['id']}/executions/9/logs", json={"entries": [{"data": "a"}]}
    )
    assert error_of(missing, 404)["code"] == "not_found"
    with other_tenant.client() as theirs:
        r = theirs.post(execution_path(ex) + "/logs", json={"entries": [{"data": "a"}]})
        assert error_of(r, 404)["code"] == "not_found"
        assert theirs.get(f"/v1/jobs/{job['id']}/logs").status_code == 404


def test_a_tail_started_before_the_job_sees_every_line_once_and_ends(
    client: httpx.Client,
) -> None:
    job = create_job(client)
    got: list[Any] = []
    tail = threading.Thread(target=lambda: got.extend(read_sse(client, job["id"])))
    tail.start()
    time.sleep(0.3)
    ex = claim_one(client)
    for chunk in range(5):
        append(client, ex, [f"c{chunk}-{i}" for i in range(200)])
        time.sleep(0.05)
    assert report(client, ex, status="succeeded").status_code == 200
    tail.join(30)
    assert not tail.is_alive(), "the tail must end when the job does"
    assert got[-1] == ("end", None)
    ids = [i for i, _ in got[:-1]]
    assert ids == list(range(1, 1001))
    assert got[0][1]["data"] == "c0-0"


def test_a_tail_resumes_after_last_event_id(client: httpx.Client) -> None:
    job = create_job(client)
    ex = claim_one(client)
    append(client, ex, [f"l{i}" for i in range(20)])
    assert report(client, ex, status="succeeded").status_code == 200
    events = read_sse(client, job["id"], headers={"Last-Event-ID": "15"})
    assert [i for i, _ in events[:-1]] == [16, 17, 18, 19, 20]
    assert events[-1] == ("end", None)


def test_download_is_the_whole_log_as_a_file(client: httpx.Client) -> None:
    job = create_job(client)
    ex = claim_one(client)
    append(client, ex, [f"line {i}" for i in range(2500)])
    r = client.get(f"/v1/jobs/{job['id']}/logs/download")
    assert r.status_code == 200
    assert f"job-{job['id']}" in r.headers["content-disposition"]
    text = r.text.splitlines()
    assert len(text) == 2500
    assert text[0].endswith("stdout line 0")
    assert text[-1].endswith("stdout line 2499")
    one = client.get(f"/v1/jobs/{job['id']}/logs/download", params={"execution": 1})
    assert f"job-{job['id']}-1.log" in one.headers["content-disposition"]
