"""The Celigo integrator.io face, driven with plain httpx as integrator.io's documentation shows
its requests (there is no official Python client), against a live server.

A flow run is a parent `flow` job with an `export` and an `import` job, run by a real worker
thread (claims and reports with `jobyard.Client`), and followed as an integrator.io user would:
statuses, counters (a flow job shows its run's totals), listings (parent jobs unless a type or
`_flowJobId` asks for child jobs), job errors, the signed error file, resolving, canceling.
"""

from __future__ import annotations

import csv
import io
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from jobyard.client import Client
from jobyard.client.models import ClaimedExecution, ExecutionUpdate, WorkerInfo
from tests.support.api import Tenant, get_job, new_tenant, wait_until
from tests.support.server import Server

JSON = dict[str, Any]
WORKER = WorkerInfo(id="celigo-test-worker")


def celigo(server: Server, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.url + "/celigo/v1", headers=headers, timeout=30)


def errors_of(r: httpx.Response, status: int, code: str) -> list[JSON]:
    """integrator.io's error body: `{"errors": [{"code", "message"}]}`."""
    assert r.status_code == status, r.text
    errors: list[JSON] = r.json()["errors"]
    assert errors
    assert errors[0]["code"] == code, errors
    assert all(isinstance(e["message"], str) and e["message"] for e in errors)
    return errors


def run_flow(c: httpx.Client, flow_id: str, **body: Any) -> str:
    r = c.post(f"/flows/{flow_id}/run", json=body)
    assert r.status_code == 201, r.text
    job_id: str = r.json()["_jobId"]
    return job_id


def jobs(c: httpx.Client, **params: Any) -> list[JSON]:
    r = c.get("/jobs", params=params)
    assert r.status_code == 200, r.text
    found: list[JSON] = r.json()
    return found


def one_job(c: httpx.Client, job_id: str) -> JSON:
    r = c.get(f"/jobs/{job_id}")
    assert r.status_code == 200, r.text
    job: JSON = r.json()
    return job


class FlowWorker:
    """A worker thread on the `celigo` queue. It claims the flow job and says so, waits for a
    permit, then runs the export and import jobs of the run (counters, record errors) and ends
    the flow job. With `until_killed`, it heartbeats the flow job until a kill order comes, and
    stops it `canceled`, as a worker should, once `may_stop` is set (so that the test reads the
    flow `canceling` first, however fast the worker hears the order)."""

    def __init__(self, server: Server, key: str, until_killed: bool = False) -> None:
        self.client = Client(server.url, key)
        self.until_killed = until_killed
        self.claimed: queue.Queue[str] = queue.Queue()
        self.permit = threading.Event()
        self.may_stop = threading.Event()
        self.failures: list[BaseException] = []
        self.thread = threading.Thread(target=self._guarded, daemon=True)
        self.thread.start()

    def _claim(self, kind: str) -> ClaimedExecution:
        for _ in range(40):
            got = self.client.claim(["celigo"], types=[kind], wait_s=0.5, worker=WORKER)
            if got:
                return got[0]
        raise AssertionError(f"no {kind} job to claim")

    def _report(self, ex: ClaimedExecution, **fields: Any) -> bool:
        update = ExecutionUpdate(
            job_id=ex.job_id, execution_number=ex.execution_number, worker_id=WORKER.id, **fields
        )
        return self.client.update_execution(update).cancel_requested

    def _guarded(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # handed to the test, which fails with it
            self.failures.append(exc)
        finally:
            self.client.close()

    def _run(self) -> None:
        flow = self._claim("flow")
        self.claimed.put(flow.job_id)
        assert self.permit.wait(20)
        if self.until_killed:
            while not self._report(flow, status_details={"phase": "exporting"}):
                time.sleep(0.05)
            assert self.may_stop.wait(20)
            self._report(flow, status="canceled")
            return
        export = self._claim("export")
        counters = {"num_export": 3, "num_pages": 1, "num_success": 3}
        self._report(export, counters=counters, status="succeeded")
        imp = self._claim("import")
        self.client.append_record_errors(
            imp.job_id,
            imp.execution_number,
            [
                {"message": "missing field expires", "code": "422", "data": {"id": "r-2"}},
                {"message": "duplicate key", "code": "409", "retriable": True},
            ],
            worker_id=WORKER.id,
        )
        self._report(imp, counters={"num_success": 2, "num_error": 1, "num_pages": 1})
        self._report(imp, status="succeeded")
        # The flow job's own count (a record its worker skipped); the rest is its children's.
        self._report(flow, counters={"num_ignore": 1}, status="succeeded")

    def join(self) -> None:
        self.thread.join(20)
        assert not self.thread.is_alive(), "the worker did not finish"
        if self.failures:
            raise self.failures[0]


@pytest.fixture
def worker_key(tenant: Tenant) -> str:
    return tenant.new_key("worker", queues=["celigo"])


@pytest.fixture
def member(tenant: Tenant) -> Iterator[httpx.Client]:
    with celigo(tenant.server, tenant.new_key("member")) as c:
        yield c


def test_a_flow_run_through_its_whole_life(
    tenant: Tenant, member: httpx.Client, worker_key: str
) -> None:
    before_ms = str(int(time.time() * 1000) - 1000)
    flow_job = run_flow(
        member, "flow-1", _integrationId="int-1", _exportIds=["exp-1"], _importIds=["imp-1"]
    )
    queued = one_job(member, flow_job)
    assert queued["type"] == "flow"
    assert queued["status"] == "queued"
    assert queued["_flowId"] == "flow-1"
    assert queued["_integrationId"] == "int-1"
    assert "startedAt" not in queued
    assert "endedAt" not in queued
    (export,) = jobs(member, _flowJobId=flow_job, type="export")
    (imp,) = jobs(member, _flowJobId=flow_job, type="import")
    assert export["_exportId"] == "exp-1"
    assert export["_flowJobId"] == flow_job
    assert imp["_importId"] == "imp-1"
    assert imp["_flowId"] == "flow-1"

    worker = FlowWorker(tenant.server, worker_key)
    assert worker.claimed.get(timeout=20) == flow_job
    running = one_job(member, flow_job)
    assert running["status"] == "running"
    assert running["startedAt"] >= running["createdAt"]
    assert jobs(member, type="flow", status="running", _integrationId="int-1")[0]["_id"] == flow_job
    worker.permit.set()
    worker.join()

    done = one_job(member, flow_job)
    assert done["status"] == "completed"
    assert done["endedAt"] >= done["startedAt"]
    # The run's totals: its export's and import's counters plus the flow job's own.
    totals = ("numSuccess", "numError", "numIgnore", "numExport", "numPagesProcessed")
    assert [done[k] for k in totals] == [5, 1, 1, 3, 2]
    assert done["retriable"] is False
    exported = one_job(member, export["_id"])
    assert exported["numExport"] == 3
    assert exported["numPagesGenerated"] == 1
    assert exported["doneExporting"] is True
    imported = one_job(member, imp["_id"])
    assert (imported["numSuccess"], imported["numError"], imported["numPagesProcessed"]) == (
        2,
        1,
        1,
    )

    # The listing: parent jobs unless a type or `_flowJobId` asks for child jobs; newest first,
    # every filter ANDed; counter bounds on what is shown (a flow job's totals).
    assert jobs(member, _flowId="flow-1") == [done]
    assert jobs(member, _integrationId="int-1", type="flow") == [done]
    children = jobs(member, _flowJobId=flow_job)
    assert [j["_id"] for j in children] == sorted((export["_id"], imp["_id"]), reverse=True)
    assert [j["_id"] for j in jobs(member, _flowJobId=flow_job, numError_gte=1, type="import")] == [
        imp["_id"]
    ]
    assert jobs(member, _flowId="flow-1", numSuccess_gte=5, numSuccess_lte=5) == [done]
    assert jobs(member, _flowId="flow-1", numPagesProcessed_gte=2, numIgnore_lte=1) == [done]
    assert jobs(member, _flowId="flow-1", numSuccess_gte=6) == []
    assert jobs(member, _flowId="flow-1", numExport_lte=2) == []
    assert jobs(member, _exportId="exp-1", type="export", numSuccess_gte=3) == [exported]
    assert len(jobs(member, **{"_flowId_in[0]": "flow-1", "_flowId_in[1]": "nope", "type": "flow"}))
    assert jobs(member, createdAt_gte=before_ms, status="completed", _flowId="flow-1") == [done]
    assert jobs(member, createdAt_lte="2000-01-01", _flowId="flow-1") == []
    assert jobs(member, _flowId="flow-1", retriable="true") == []
    assert (
        len(
            jobs(member, **{"type_in[0]": "export", "type_in[1]": "import", "_flowJobId": flow_job})
        )
        == 2
    )

    # Job errors, as JSON and as a file behind a signed URL.
    r = member.get(f"/jobs/{imp['_id']}/joberrors")
    assert r.status_code == 200, r.text
    errors = r.json()
    assert [(e["code"], e["resolved"], e["_jobId"]) for e in errors] == [
        ("422", False, imp["_id"]),
        ("409", False, imp["_id"]),
    ]
    assert errors[0]["message"] == "missing field expires"
    assert errors[0]["extracted"] == '{"id":"r-2"}'
    assert errors[1]["retry"] is True
    assert member.get(f"/jobs/{imp['_id']}/jobErrors").json() == errors
    r = member.get(f"/jobs/{imp['_id']}/errorFile/signedURL")
    assert r.status_code == 200, r.text
    signed = r.json()["signedURL"]
    assert signed.startswith(tenant.server.url)
    download = httpx.get(signed)  # no token: the URL is the permission
    assert download.status_code == 200
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [row["message"] for row in rows] == ["missing field expires", "duplicate key"]
    assert httpx.get(signed.replace("sig=", "sig=0")).status_code == 403

    # Resolving: one error, then the rest, then the whole flow run.
    r = member.put(f"/jobs/{imp['_id']}/joberrors/{errors[0]['_id']}/resolve")
    assert r.status_code == 201
    assert r.json() == {"numResolved": 1}
    r = member.put(f"/jobs/{imp['_id']}/joberrors/resolve")
    assert r.status_code == 200
    assert r.json() == {"numResolved": 1}
    after = member.get(f"/jobs/{imp['_id']}/joberrors").json()
    assert all(e["resolved"] and e["resolvedAt"] for e in after)
    assert member.put(f"/jobs/{flow_job}/resolve").status_code == 204

    # The same jobs through the native API, with the same key.
    with tenant.client(member.headers["Authorization"].removeprefix("Bearer ")) as native:
        job = get_job(native, flow_job)
        assert job["status"] == "succeeded"
        assert job["type"] == "flow"
        assert job["labels"] == {"celigo.flowId": "flow-1", "celigo.integrationId": "int-1"}
        # natively, a job's counters are its own
        assert (job["num_success"], job["num_error"], job["num_ignore"]) == (0, 0, 1)
        child = get_job(native, imp["_id"])
        assert child["parent_id"] == flow_job
        assert child["labels"]["celigo.importId"] == "imp-1"
    family = member.get(f"/jobs/{flow_job}/family").json()
    assert [c["type"] for c in family["children"]] == ["export", "import"]
    assert family["numSuccess"] == 5


def test_cancel_a_running_flow_and_a_failure(
    tenant: Tenant, member: httpx.Client, worker_key: str
) -> None:
    flow_job = run_flow(member, "flow-2", _exportIds=["exp-2"])
    worker = FlowWorker(tenant.server, worker_key, until_killed=True)
    assert worker.claimed.get(timeout=20) == flow_job
    worker.permit.set()
    r = member.put(f"/jobs/{flow_job}/cancel")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "canceling"
    (export,) = jobs(member, _flowJobId=flow_job, type="export")
    assert export["status"] == "canceled"  # it had not started: canceled at once
    worker.may_stop.set()
    worker.join()
    canceled = one_job(member, flow_job)
    assert canceled["status"] == "canceled"
    assert canceled["retriable"] is True
    assert "endedAt" in canceled
    errors_of(member.put(f"/jobs/{flow_job}/cancel"), 409, "conflict")

    # A job made through the native API with integrator.io's labels, failed by its worker.
    with tenant.client() as native:
        r = native.post(
            "/v1/jobs",
            json={
                "type": "import",
                "queue": "celigo",
                "max_attempts": 1,
                "labels": {"celigo.flowId": "flow-3", "celigo.importId": "imp-3"},
            },
        )
        assert r.status_code == 201, r.text
        job_id = r.json()["id"]
    with Client(tenant.server.url, worker_key) as w:
        (ex,) = w.claim(["celigo"], types=["import"], worker=WORKER)
        w.update_execution(
            ExecutionUpdate(
                job_id=ex.job_id,
                execution_number=ex.execution_number,
                worker_id=WORKER.id,
                status="failed",
                error={"message": "connection refused"},
            )
        )
    failed = one_job(member, job_id)
    assert failed["status"] == "failed"
    assert failed["retriable"] is True
    assert failed["_importId"] == "imp-3"
    assert "_flowJobId" not in failed
    assert [j["_id"] for j in jobs(member, _importId="imp-3", type="import", retriable="true")] == [
        job_id
    ]
    assert jobs(member, _importId="imp-3", type="import", status="failed") == [failed]
    assert jobs(member, _importId="imp-3", type="import", status="running") == []
    assert jobs(member, _flowId="flow-3") == []  # an import job is a child job: asked by type


def test_errors_roles_and_tenants(tenant: Tenant, member: httpx.Client) -> None:
    server = tenant.server
    flow_job = run_flow(member, "flow-4", _importIds=["imp-4"])

    with celigo(server, None) as anonymous:
        r = anonymous.get("/jobs", params={"_flowId": "flow-4"})
        errors_of(r, 401, "unauthorized")
        assert r.headers["WWW-Authenticate"] == "Bearer"
    with celigo(server, "jy_0000000000000000_nope") as wrong:
        errors_of(wrong.get(f"/jobs/{flow_job}"), 401, "unauthorized")

    # integrator.io's rules for the listing, answered in its shape.
    message = errors_of(member.get("/jobs"), 400, "invalid_query")[0]["message"]
    assert message.startswith("For parent jobs")
    message = errors_of(member.get("/jobs", params={"type": "export"}), 400, "invalid_query")
    assert message[0]["message"].startswith("For child jobs")
    for params in (
        {"_flowId": "flow-4", "status": "finished"},
        {"_flowId": "flow-4", "createdAt_gte": "yesterday"},
        {"_flowId": "flow-4", "createdAt_lte": "99999999999999999"},
        {"_flowId": "flow-4", "numError_gte": "-1"},
        {"_flowId": "flow-4", "retriable": "maybe"},
        {"_flowId": "flow-4", "colour": "blue"},
        {"_flowId": "flow-4", "api_key": "x"},
        {"_flowId": "flow-4", "numError_gte": "\u00b2"},  # a digit to `str.isdigit`, not to int
        {"_flowId": "flow-4", "createdAt_gte": "\u00b9\u00b2"},
        {"_flowId": "flow-4", "createdAt_gte": "9999-12-31T23:59:59-23:00"},  # past year 9999
        {"_flowId": "flow-\x00"},  # PostgreSQL takes no NUL in text
        {"_flowId": "flow-4", "type_in[0]": "flow\x00"},
        {"_flowId": "flow-4", "createdAt_lte": "x" * 5000},
    ):
        errors_of(member.get("/jobs", params=params), 400, "invalid_query")
    errors_of(member.get("/jobs/not-a-job"), 404, "not_found")
    error_path = f"/jobs/{flow_job}/joberrors/not-an-error/resolve"
    errors_of(member.put(error_path), 404, "not_found")
    # integrator.io's paths this face does not serve, and methods it does not take
    errors_of(member.get("/integrations"), 404, "not_found")
    errors_of(member.get(f"/jobs/{flow_job}/diagnostics"), 404, "not_found")
    r = member.delete(f"/jobs/{flow_job}")
    errors_of(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "GET"
    errors_of(member.post("/flows/f/run", json={"_exportIds": "exp"}), 422, "invalid_value")
    errors_of(member.post("/flows/f/run", json={"schedule": "now"}), 422, "invalid_value")
    errors_of(member.put(f"/jobs/{flow_job}/joberrors/resolve", json=["x"]), 422, "invalid_value")

    # A viewer reads, and changes nothing.
    with celigo(server, tenant.new_key("viewer")) as viewer:
        assert one_job(viewer, flow_job)["status"] == "queued"
        assert viewer.get(f"/jobs/{flow_job}/joberrors").json() == []
        errors_of(viewer.put(f"/jobs/{flow_job}/cancel"), 403, "forbidden")
        errors_of(viewer.put(f"/jobs/{flow_job}/resolve"), 403, "forbidden")
        errors_of(viewer.put(f"/jobs/{flow_job}/joberrors/resolve"), 403, "forbidden")
        errors_of(viewer.post("/flows/flow-4/run"), 403, "forbidden")
    assert one_job(member, flow_job)["status"] == "queued"

    # Another tenant sees nothing of this one.
    other = new_tenant(server)
    with celigo(server, other.admin_key) as stranger:
        for path in ("", "/joberrors", "/errorFile/signedURL", "/family"):
            errors_of(stranger.get(f"/jobs/{flow_job}{path}"), 404, "not_found")
        for path in ("/cancel", "/resolve", "/joberrors/resolve"):
            errors_of(stranger.put(f"/jobs/{flow_job}{path}"), 404, "not_found")
        assert jobs(stranger, _flowId="flow-4") == []
    assert one_job(member, flow_job)["status"] == "queued"

    # The member that ran it cancels it: queued, so canceled at once, with its import job.
    r = member.put(f"/jobs/{flow_job}/cancel")
    assert r.status_code == 200
    assert r.json()["status"] == "canceled"
    assert jobs(member, _flowJobId=flow_job, type="import")[0]["status"] == "canceled"
    wait_until(lambda: one_job(member, flow_job)["status"] == "canceled")
