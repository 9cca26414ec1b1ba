"""The Posit Connect face, driven by Posit's own client (`posit-sdk`) against a live server.

A content item is the set of jobs labelled `content_guid=<guid>`; the jobs are made through the
native API (as a publisher would) and run by a real worker thread that claims, reports its pid
and hostname, writes logs and ends them; everything a Connect user reads comes through the face.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from posit.connect import Client  # type: ignore[import-untyped]
from posit.connect.errors import ClientError  # type: ignore[import-untyped]

from tests.support.api import JSON, Tenant, create_job, get_job, new_tenant, wait_until

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HOST, PID = "box-7", 4242


OPEN: list[Client] = []


def connect(tenant: Tenant, key: str) -> Client:
    """Posit's client for this server; closed after each test (see `close_clients`)."""
    client = Client(url=tenant.server.url + "/connect", api_key=key)
    OPEN.append(client)
    return client


@pytest.fixture(autouse=True)
def close_clients() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().session.close()


def api(tenant: Tenant, key: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Key {key}"} if key else {}
    return httpx.Client(base_url=tenant.server.url + "/connect/__api__", headers=headers)


class Worker:
    """A worker thread: claims one execution from its queue, says it runs, writes `lines` to
    its log, then ends it as told (`finish`), or as canceled once a kill order reaches it."""

    def __init__(self, tenant: Tenant, queue: str, lines: list[tuple[str, str]]) -> None:
        self.client = tenant.client(tenant.new_key("worker", queues=[queue]))
        self.queue = queue
        self.lines = lines
        self.outcome: JSON | None = None
        self.running = threading.Event()
        self.told = threading.Event()
        self.ended: JSON | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def finish(self, **outcome: Any) -> None:
        self.outcome = outcome
        self.told.set()

    def _run(self) -> None:
        with self.client:
            self._work(self.client)

    def _work(self, c: httpx.Client) -> None:
        r = c.post(
            "/v1/claims",
            json={
                "queues": [self.queue],
                "lease_s": 30,
                "wait_s": 10,
                "worker": {"id": "w-1", "hostname": HOST, "pid": PID},
            },
        )
        (ex,) = r.json()["executions"]
        path = f"/v1/jobs/{ex['job_id']}/executions/{ex['execution_number']}"
        entries = [{"source": s, "data": d} for s, d in self.lines]
        assert c.post(path + "/logs", json={"entries": entries, "worker_id": "w-1"}).is_success
        self.running.set()
        while not self.told.wait(0.1):
            beat = c.patch(path, json={"worker_id": "w-1"})
            if beat.json().get("cancel_requested"):
                self.outcome = {"status": "canceled", "exit_code": 137}
                break
        done = c.patch(path, json={"worker_id": "w-1", **(self.outcome or {})})
        assert done.status_code == 200, done.text
        self.ended = done.json()

    def join(self) -> None:
        self.thread.join(15)
        assert self.ended is not None


@pytest.fixture
def guid() -> str:
    return str(uuid.uuid4())


def make_job(tenant: Tenant, key: str, guid: str, queue: str, **labels: str) -> JSON:
    with tenant.client(key) as c:
        return create_job(
            c,
            type="report.render",
            queue=queue,
            max_attempts=1,
            labels={"content_guid": guid, **labels},
        )


def tail(tenant: Tenant, key: str, guid: str, job_key: str, out: list[JSON]) -> None:
    """Read the live tail until the server closes it (when the job has ended)."""
    path = f"/v1/content/{guid}/jobs/{job_key}/tail"
    with api(tenant, key) as c, c.stream("GET", path, timeout=20) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                out.append(orjson.loads(line[6:]))


def test_a_job_runs_and_is_followed_through_the_client(tenant: Tenant, guid: str) -> None:
    publisher = tenant.new_key("member")
    queue = f"q-{uuid.uuid4().hex[:8]}"
    job = make_job(tenant, publisher, guid, queue, tag="build_report", bundle_id="17")
    worker = Worker(tenant, queue, [("stdout", "rendering"), ("stderr", "warning: slow")])
    assert worker.running.wait(10)

    client = connect(tenant, publisher)
    assert client.version == "2025.09.0"
    content = client.content.get(guid)
    assert content["guid"] == guid
    assert content["owner"]["guid"] == content["owner_guid"]
    assert content["app_role"] == "owner"

    jobs = list(content.jobs)
    assert [j["key"] for j in jobs] == [job["id"]]
    running = content.jobs.find(job["id"])
    assert running["status"] == 0
    assert running["pid"] == str(PID)
    assert running["hostname"] == HOST
    assert running["tag"] == "build_report"
    assert running["exit_code"] is None
    assert running["end_time"] is None
    assert running["start_time"] is not None
    assert running["app_guid"] == running["content_guid"] == guid

    tailed: list[JSON] = []
    follower = threading.Thread(target=tail, args=(tenant, publisher, guid, job["id"], tailed))
    follower.start()
    wait_until(lambda: len(tailed) >= 2)
    worker.finish(status="succeeded", exit_code=0, result={"pages": 3})
    worker.join()
    follower.join(15)
    assert not follower.is_alive(), "the tail must close once the job has ended"
    assert [(e["source"], e["data"]) for e in tailed] == [
        ("stdout", "rendering"),
        ("stderr", "warning: slow"),
    ]

    done = content.jobs.find(job["id"])
    assert done["status"] == 2
    assert done["exit_code"] == 0
    assert done["end_time"] is not None
    assert done["result"] == {"pages": 3}
    with tenant.client(publisher) as c:
        native = get_job(c, job["id"])
    assert native["status"] == "succeeded"
    assert native["latest_execution"]["hostname"] == done["hostname"]
    assert native["latest_execution"]["exit_code"] == done["exit_code"]

    base = f"/v1/content/{guid}/jobs/{job['id']}"
    with api(tenant, publisher) as c:
        log = c.get(base + "/log").json()
        assert [e["data"] for e in log["entries"]] == ["rendering", "warning: slow"]
        assert all(e["timestamp"].endswith("Z") for e in log["entries"])
        last = c.get(base + "/log", params={"max_log_lines": 1}).json()
        assert [e["data"] for e in last["entries"]] == ["warning: slow"]
        file = c.get(base + "/download")
        assert file.status_code == 200
        expected = f"rstudio-connect.{guid}.0.17.build_report.{job['id']}.log"
        assert f'filename="{expected}"' in file.headers["content-disposition"]
        assert "rendering" in file.text
        assert "warning: slow" in file.text
        assert c.get(base + "/error").status_code == 204

    with pytest.raises(ClientError) as refused:
        content.jobs.find(job["id"]).destroy()
    assert refused.value.http_status == 409
    assert refused.value.error_code == 163


def test_a_failure_and_a_kill(tenant: Tenant, guid: str) -> None:
    publisher, viewer = tenant.new_key("member"), tenant.new_key("viewer")
    queue = f"q-{uuid.uuid4().hex[:8]}"
    failing = make_job(tenant, publisher, guid, queue)
    worker = Worker(tenant, queue, [("stderr", "Error: no data")])
    assert worker.running.wait(10)
    worker.finish(status="failed", exit_code=1, error={"code": "E42", "message": "no data"})
    worker.join()

    client = connect(tenant, publisher)  # held: its resources refer to it weakly
    content = client.content.get(guid)
    failed = content.jobs.find(failing["id"])
    assert (failed["status"], failed["exit_code"]) == (2, 1)
    with api(tenant, publisher) as c:
        error = c.get(f"/v1/content/{guid}/jobs/{failing['id']}/error")
    assert error.status_code == 200
    assert error.json() == {"code": "E42", "summary": "no data", "help_url": None}

    running = make_job(tenant, publisher, guid, queue)
    worker = Worker(tenant, queue, [("stdout", "serving")])
    assert worker.running.wait(10)

    # A viewer reads the job but may not kill it; the publisher who owns it may.
    watcher = connect(tenant, viewer)
    as_viewer = watcher.content.get(guid).jobs.find(running["id"])
    assert as_viewer["status"] == 0
    with pytest.raises(ClientError) as refused:
        as_viewer.destroy()
    assert (refused.value.http_status, refused.value.error_code) == (403, 22)

    with api(tenant, publisher) as c:
        order = c.delete(f"/v1/content/{guid}/jobs/{running['id']}")
    assert order.status_code == 200
    assert order.json()["job_key"] == running["id"]
    assert order.json()["app_guid"] == guid
    assert order.json()["result"] == "Order to kill job registered"
    worker.join()

    killed = content.jobs.find(running["id"])
    assert (killed["status"], killed["exit_code"]) == (2, 137)
    with tenant.client(publisher) as c:
        assert get_job(c, running["id"])["status"] == "canceled"
    assert sorted(j["key"] for j in content.jobs) == sorted([failing["id"], running["id"]])


@pytest.fixture
def other(tenant: Tenant) -> Tenant:
    return new_tenant(tenant.server)


def test_errors_roles_and_tenants(tenant: Tenant, other: Tenant, guid: str) -> None:
    publisher = tenant.new_key("member")
    job = make_job(tenant, publisher, guid, "idle")
    base = f"/v1/content/{guid}/jobs/{job['id']}"

    with api(tenant) as anonymous:
        r = anonymous.get(base)
        assert r.status_code == 401
        assert r.json() == {
            "code": 24,
            "error": "The requested operation requires authentication.",
            "payload": None,
        }
    with api(tenant, "jy_0000000000000000_" + "x" * 43) as wrong:
        assert wrong.get(base).json()["code"] == 24

    with api(tenant, publisher) as c:
        assert c.get(base + "/log", params={"max_log_lines": 0}).json()["code"] == 25
        assert c.get(base + "/log", params={"api_key": "x"}).status_code == 400
        unsupported = c.get("/v1/content/" + guid + "/bundles")
        assert (unsupported.status_code, unsupported.json()["code"]) == (404, 2)
        elsewhere = c.get(f"/v1/content/{uuid.uuid4()}/jobs/{job['id']}")
        assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, 4)
        assert c.get(f"/v1/content/{guid}/jobs/not-a-job").status_code == 404
        for odd in ["%00", "x" * 2000, "%C3%28", "%ED%A0%80"]:
            r = c.get(f"/v1/content/{odd}/jobs")
            assert (r.status_code, r.json()["code"]) == (404, 4), r.text

    # A queued job is killed at once: it never ran.
    with api(tenant, publisher) as c:
        order = c.delete(base)
    assert order.status_code == 200
    assert order.json()["result"] == "Job terminated"

    # Another tenant sees neither the content nor the job: 404, as for what does not exist.
    stranger = connect(other, other.admin_key)
    with pytest.raises(ClientError) as missing:
        stranger.content.get(guid)
    assert (missing.value.http_status, missing.value.error_code) == (404, 4)
    with api(other, other.admin_key) as c:
        for method, path in [("GET", base), ("DELETE", base), ("GET", base + "/log")]:
            r = c.request(method, path)
            assert (r.status_code, r.json()["code"]) == (404, 4)
