"""One job, many faces: a job started through one face reads the same through the native API and
through every other face that can see it, at every stage of its life.

Jobs are started through Celigo (a flow run), Finch (automated jobs), the native API (labelled
for Connect and Celigo, or made for an IoT thing) and IoT's control plane (a fleet job). Real
workers run them: a thread claiming and reporting with `jobyard.Client`, or a device on IoT's
data plane. Each worker stops at the stages the test names, so that every read of a stage sees
one state. There, `agree` reads the job natively and through each face that can see it, and
checks what each face shows against the native job through that face's documented mapping:
id, status, times (to the precision the face shows), counters, result, error, logs.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from botocore.client import BaseClient

from jobyard.client import Client
from jobyard.client.models import ClaimedExecution, UpdateResult, WorkerInfo
from jobyard.client.models import ExecutionUpdate as Update
from tests.support.api import JSON, Tenant, create_job, wait_until
from tests.support.iot import REGION, aws_client, sigv4_key

ACCOUNT = "123456789012"
WORKER = WorkerInfo(id="cross-worker", hostname="cross-host", pid=4242)

# The documented status mappings (docs/faces/*.md), from the core job status.
ENDED = {"succeeded", "completed", "failed", "timed_out", "rejected", "canceled", "removed"}
CELIGO_STATUS = {
    "scheduled": "queued",
    "queued": "queued",
    "in_progress": "running",
    "canceling": "canceling",
    "succeeded": "completed",
    "completed": "completed",
    "failed": "failed",
    "timed_out": "failed",
    "rejected": "failed",
    "canceled": "canceled",
    "removed": "canceled",
}
FINCH_STATUS = {
    "scheduled": "pending",
    "queued": "pending",
    "in_progress": "in_progress",
    "canceling": "in_progress",
    "succeeded": "complete",
    "completed": "complete",
}
FINCH_NAMED_ERRORS = {
    "reauth_error": "reauth_error",
    "reauthenticate_user": "reauth_error",
    "permissions_error": "permissions_error",
    "insufficient_account_permissions": "permissions_error",
}
BASIQ_ENDED_BADLY = {
    "failed": "job-failed",
    "rejected": "job-failed",
    "timed_out": "job-timed-out",
    "canceled": "job-canceled",
}
FINCH_TYPES = {"data_sync_all", "w4_form_employee_sync"}


# times --------------------------------------------------------------------------------------
def parsed(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).astimezone(UTC)


def to_ms(t: datetime | None) -> datetime | None:
    return None if t is None else t.replace(microsecond=t.microsecond // 1000 * 1000)


def to_s(t: datetime | None) -> datetime | None:
    return None if t is None else t.replace(microsecond=0)


def epoch_s(t: datetime | None) -> int | None:
    return None if t is None else int(t.timestamp())


def same_instant(shown: datetime | None, native: datetime | None) -> bool:
    """botocore's datetimes from AWS's epoch-second floats: equal to within float rounding."""
    if shown is None or native is None:
        return shown is native
    return abs(shown - native) < timedelta(microseconds=2)


# the worker -----------------------------------------------------------------------------------
class Worker:
    """A worker thread with its own `jobyard.Client`, running `script` on the jobs of `queue`.
    The script calls `pause(stage)` where the test reads the job: the worker waits there until
    the test has seen that stage and lets it go on."""

    def __init__(self, tenant: Tenant, queue_name: str, script: Callable[[Worker], None]) -> None:
        key = tenant.new_key("worker", queues=[queue_name])
        self.client = Client(tenant.server.url, key)
        self.queue = queue_name
        self.script = script
        self.stages: queue.Queue[str] = queue.Queue()
        self.permit = threading.Semaphore(0)
        self.failures: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.script(self)
        except BaseException as exc:  # handed to the test, which fails with it
            self.failures.append(exc)
            self.stages.put("crashed")
        finally:
            self.client.close()

    # what scripts call
    def claim(self, kind: str | None = None) -> ClaimedExecution:
        types = [kind] if kind else None
        for _ in range(40):
            got = self.client.claim([self.queue], types=types, wait_s=0.5, worker=WORKER)
            if got:
                return got[0]
        raise AssertionError(f"nothing to claim on {self.queue}")

    def report(self, ex: ClaimedExecution, **fields: Any) -> UpdateResult:
        update = Update(
            job_id=ex.job_id, execution_number=ex.execution_number, worker_id=WORKER.id, **fields
        )
        return self.client.update_execution(update)

    def log(self, ex: ClaimedExecution, *lines: tuple[str, str]) -> None:
        entries = [{"source": source, "data": data} for source, data in lines]
        self.client.append_logs(ex.job_id, ex.execution_number, entries, worker_id=WORKER.id)

    def run_until_killed(self, ex: ClaimedExecution) -> None:
        """Heartbeats until a kill order reaches it, then stops as a worker should."""
        while not self.report(ex).cancel_requested:
            time.sleep(0.05)
        self.report(ex, status="canceled", exit_code=137)

    def pause(self, stage: str) -> None:
        self.stages.put(stage)
        assert self.permit.acquire(timeout=20), f"the test never let {stage!r} go on"

    # what the test calls
    def reached(self, stage: str) -> None:
        seen = self.stages.get(timeout=20)
        if self.failures:
            raise self.failures[0]
        assert seen == stage, (seen, stage)

    def resume(self) -> None:
        self.permit.release()

    def join(self) -> None:
        self.thread.join(20)
        assert not self.thread.is_alive(), "the worker did not finish"
        if self.failures:
            raise self.failures[0]


# the faces ------------------------------------------------------------------------------------
@dataclass
class Faces:
    """Clients for the native API and for each face, all with keys of one tenant."""

    native: httpx.Client
    connect: httpx.Client
    celigo: httpx.Client
    finch: httpx.Client
    basiq: httpx.Client
    iot: BaseClient  # the control plane, as an operator
    device: BaseClient | None = None  # the data plane, as the thing's device


def basiq_token(tenant: Tenant) -> str:
    r = httpx.post(
        tenant.server.url + "/basiq/token",
        headers={"Authorization": f"Basic {tenant.admin_key}", "basiq-version": "3.0"},
    )
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def aws(tenant: Tenant, plane: str, key: JSON) -> BaseClient:
    return aws_client(tenant, "iot-jobs-data" if plane == "data" else "iot", key)


@pytest.fixture
def faces(tenant: Tenant) -> Iterator[Faces]:
    url = tenant.server.url
    key = tenant.admin_key
    member = tenant.new_key("member")  # Finch's connection is its key's subject
    bearer = {"Authorization": f"Bearer {key}"}
    with (
        tenant.client() as native,
        httpx.Client(
            base_url=url + "/connect/__api__", headers={"Authorization": f"Key {key}"}
        ) as connect,
        httpx.Client(base_url=url + "/celigo/v1", headers=bearer) as celigo,
        httpx.Client(
            base_url=url + "/finch", headers={"Authorization": f"Bearer {member}"}
        ) as finch,
        httpx.Client(
            base_url=url + "/basiq", headers={"Authorization": f"Bearer {basiq_token(tenant)}"}
        ) as basiq,
    ):
        yield Faces(
            native,
            connect,
            celigo,
            finch,
            basiq,
            aws(tenant, "control", sigv4_key(tenant, "admin")),
        )


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, (r.request.url, r.text)
    return r.json()


# what each face must show ------------------------------------------------------------------------
def agree(f: Faces, job_id: str, guid: str | None = None, thing: str | None = None) -> JSON:
    """Reads the job natively and through every face that can see it; each must agree with the
    native job. Answers the native job."""
    job: JSON = ok(f.native.get(f"/v1/jobs/{job_id}"))
    if guid is not None:
        connect_agrees(f, job, guid)
    celigo_agrees(f, job)
    finch_agrees(f, job)
    basiq_agrees(f, job)
    if thing is not None:
        iot_agrees(f, job, thing)
    return job


def connect_agrees(f: Faces, job: JSON, guid: str) -> None:
    item = ok(f.connect.get(f"/v1/content/{guid}/jobs/{job['id']}"))
    ex = job["latest_execution"]
    assert (item["key"], item["id"], item["content_guid"]) == (job["id"], job["id"], guid)
    assert item["status"] == (2 if job["status"] in ENDED else 0), (item, job["status"])
    assert parsed(item["start_time"]) == parsed(job["started_at"])
    assert parsed(item["end_time"]) == parsed(job["completed_at"])
    heartbeat = ex["last_updated_at"] if ex else job["updated_at"]
    assert parsed(item["last_heartbeat_time"]) == parsed(heartbeat)
    assert parsed(item["queued_time"]) == parsed(ex["queued_at"] if ex else job["created_at"])
    assert item["pid"] == (str(ex["pid"]) if ex and ex["pid"] is not None else None)
    assert item["hostname"] == (ex["hostname"] if ex else None)
    assert item["exit_code"] == (ex["exit_code"] if ex else None)
    assert item["result"] == job["result"]
    assert item["queue_name"] == job["queue"]
    assert item["tag"] == job["labels"].get("tag", job["type"])
    assert item["creator_guid"] == job["owner"]
    listed = ok(f.connect.get(f"/v1/content/{guid}/jobs"))
    assert [i for i in listed if i["key"] == job["id"]] == [item]

    error = f.connect.get(f"/v1/content/{guid}/jobs/{job['id']}/error")
    if job["error"] is None:
        assert error.status_code == 204, error.text
    else:
        shown = ok(error)
        assert shown["code"] == str(job["error"]["code"])
        assert shown["summary"] == job["error"]["message"]

    native_log = ok(f.native.get(f"/v1/jobs/{job['id']}/logs"))["entries"]
    connect_log = ok(f.connect.get(f"/v1/content/{guid}/jobs/{job['id']}/log"))["entries"]
    assert [(e["data"], parsed(e["timestamp"])) for e in connect_log] == [
        (e["data"], parsed(e["ts"])) for e in native_log
    ]
    sources = [e["source"] if e["source"] in ("stdout", "stderr") else "stderr" for e in native_log]
    assert [e["source"] for e in connect_log] == sources


def celigo_agrees(f: Faces, job: JSON) -> None:
    shown = ok(f.celigo.get(f"/jobs/{job['id']}"))
    assert (shown["_id"], shown["type"]) == (job["id"], job["type"])
    assert shown["status"] == CELIGO_STATUS[job["status"]], (shown, job["status"])
    assert shown.get("_flowJobId") == job["parent_id"]
    assert shown.get("_flowId") == job["labels"].get("celigo.flowId")
    assert shown.get("_integrationId") == job["labels"].get("celigo.integrationId")
    times = {"startedAt": "started_at", "endedAt": "completed_at"}
    times |= {"createdAt": "created_at", "lastModified": "updated_at"}
    for celigo_name, native_name in times.items():
        assert parsed(shown.get(celigo_name)) == to_ms(parsed(job[native_name])), celigo_name
    # A job's counters plus its children's (a flow job shows its run's totals).
    children = ok(f.native.get("/v1/jobs", params={"parent_id": job["id"]}))["items"]
    counters = {"numSuccess": "num_success", "numError": "num_error", "numIgnore": "num_ignore"}
    counters |= {"numExport": "num_export", "numPagesProcessed": "num_pages"}
    totals = {k: job[v] + sum(c[v] for c in children) for k, v in counters.items()}
    assert {k: shown[k] for k in counters} == totals
    assert shown["retriable"] == (job["status"] in {"failed", "timed_out", "canceled"})
    if job["parent_id"] is not None:  # a child job, listed with its flow job
        listed = ok(f.celigo.get("/jobs", params={"_flowJobId": job["parent_id"]}))
        assert [j for j in listed if j["_id"] == job["id"]] == [shown]
    elif "celigo.flowId" in job["labels"]:  # a parent job; a listing needs a scope: the flow
        listed = ok(f.celigo.get("/jobs", params={"_flowId": job["labels"]["celigo.flowId"]}))
        assert [j for j in listed if j["_id"] == job["id"]] == [shown]


def finch_status(job: JSON) -> str:
    status = FINCH_STATUS.get(job["status"])
    if status is not None:
        return status
    error = job["error"] or {}
    named = [FINCH_NAMED_ERRORS.get(str(error.get(k))) for k in ("code", "finch_code")]
    return next((n for n in named if n is not None), "error")


def finch_agrees(f: Faces, job: JSON) -> None:
    """Any job reads as a manual job; Finch's own types also as automated jobs."""
    manual = ok(f.finch.get(f"/jobs/manual/{job['id']}"))
    status = finch_status(job)
    assert manual["job_id"] == job["id"]
    assert manual["status"] == (status if status in FINCH_STATUS.values() else "error")
    result = job["result"]
    body = None if result is None else result.get("body", [result])
    assert manual["body"] == body
    automated = f.finch.get(f"/jobs/automated/{job['id']}")
    if job["type"] not in FINCH_TYPES:
        assert automated.status_code == 404, automated.text
        return
    shown = ok(automated)
    assert (shown["job_id"], shown["type"], shown["status"]) == (job["id"], job["type"], status)
    for name in ("created_at", "started_at", "completed_at"):
        assert parsed(shown[name]) == parsed(job[name]), name
    assert shown["scheduled_at"] is None
    listed = ok(f.finch.get("/jobs/automated"))["data"]
    assert [j for j in listed if j["job_id"] == job["id"]] == [shown]


def basiq_agrees(f: Faces, job: JSON) -> None:
    """These jobs declare no steps: Basiq shows one, titled by the job's type, that ends as the
    job does."""
    shown = ok(f.basiq.get(f"/jobs/{job['id']}"))
    assert (shown["type"], shown["id"], shown["jobType"]) == ("job", job["id"], job["type"])
    assert parsed(shown["created"]) == to_s(parsed(job["created_at"]))
    assert parsed(shown["updated"]) == to_s(parsed(job["updated_at"]))
    (step,) = shown["steps"]
    assert step["title"] == job["type"]
    status = job["status"]
    if status in {"scheduled", "queued"}:
        assert (step["status"], step["result"]) == ("pending", None)
    elif status in {"in_progress", "canceling"}:
        assert (step["status"], step["result"]) == ("in-progress", None)
    elif status in {"succeeded", "completed"}:
        assert step["status"] == "success", (step, status)
        assert step["result"]["type"] == "link"
    else:
        error = job["error"] or {}
        assert step["status"] == "failed", (step, status)
        assert step["result"]["type"] == "error"
        assert step["result"]["code"] == error.get("code", BASIQ_ENDED_BADLY.get(status))
        if "message" in error:
            assert step["result"]["detail"] == error["message"]


def iot_agrees(f: Faces, job: JSON, thing: str) -> None:
    """The thing's execution of the job, through the operator's and the device's plane."""
    ex = job["latest_execution"]
    name = job["labels"].get("iot.job", job["id"])  # a fleet job's child goes by its fleet
    times = {"queuedAt": "queued_at", "startedAt": "started_at", "lastUpdatedAt": "last_updated_at"}
    control = f.iot.describe_job_execution(thingName=thing, jobId=name)["execution"]
    assert (control["jobId"], control["status"]) == (name, ex["status"].upper())
    assert control["thingArn"].endswith(f":thing/{thing}")
    assert (control["executionNumber"], control["versionNumber"]) == (
        ex["execution_number"],
        ex["version"],
    )
    assert control["statusDetails"].get("detailsMap", {}) == ex["status_details"]
    for aws_name, native_name in times.items():
        assert same_instant(control.get(aws_name), parsed(ex[native_name])), aws_name
    history = f.iot.list_job_executions_for_thing(thingName=thing)["executionSummaries"]
    (summary,) = [s["jobExecutionSummary"] for s in history if s["jobId"] == name]
    assert summary["status"] == ex["status"].upper()
    for aws_name, native_name in times.items():
        assert same_instant(summary.get(aws_name), parsed(ex[native_name])), aws_name
    if f.device is None:
        return
    data = f.device.describe_job_execution(thingName=thing, jobId=name)["execution"]
    assert (data["jobId"], data["status"]) == (name, ex["status"].upper())
    assert data["versionNumber"] == ex["version"]
    assert data.get("statusDetails", {}) == ex["status_details"]
    for aws_name, native_name in times.items():
        assert data.get(aws_name) == epoch_s(parsed(ex[native_name])), aws_name


# started natively, labelled for Connect and Celigo ---------------------------------------------
def test_a_native_job_runs_to_success_alike_everywhere(tenant: Tenant, faces: Faces) -> None:
    guid = str(uuid.uuid4())
    labels = {"content_guid": guid, "tag": "nightly"}
    labels |= {"celigo.flowId": "flow-n", "celigo.integrationId": "int-n"}
    with tenant.client() as c:
        job = create_job(c, type="report.render", queue="cross", max_attempts=1, labels=labels)
    assert agree(faces, job["id"], guid)["status"] == "queued"

    def script(w: Worker) -> None:
        ex = w.claim()
        w.log(ex, ("stdout", "rendering"), ("stderr", "warning: slow"))
        progress = {"current": 1, "total": 3}
        w.report(ex, progress=progress, counters={"num_success": 2, "num_pages": 1})
        w.pause("running")
        w.log(ex, ("stdout", "rendered"))
        counters = {"num_success": 1, "num_error": 1, "num_ignore": 4, "num_export": 3}
        w.report(ex, counters=counters, status="succeeded", result={"rows": 3}, exit_code=0)

    worker = Worker(tenant, "cross", script)
    worker.reached("running")
    running = agree(faces, job["id"], guid)
    assert running["status"] == "in_progress"
    assert (running["num_success"], running["num_pages"]) == (2, 1)
    assert running["progress"]["current"] == 1
    worker.resume()
    worker.join()
    done = agree(faces, job["id"], guid)
    assert done["status"] == "succeeded"
    assert (done["num_success"], done["num_error"], done["num_ignore"]) == (3, 1, 4)
    assert done["result"] == {"rows": 3}


# started through Celigo -----------------------------------------------------------------------
def test_a_celigo_flow_run_that_fails_reads_alike_everywhere(tenant: Tenant, faces: Faces) -> None:
    body = {"_integrationId": "int-c", "_exportIds": ["exp-c"]}
    flow_id: str = ok(faces.celigo.post("/flows/flow-c/run", json=body), 201)["_jobId"]
    (export,) = ok(faces.celigo.get("/jobs", params={"_flowJobId": flow_id, "type": "export"}))
    for job_id in (flow_id, export["_id"]):
        assert agree(faces, job_id)["status"] == "queued"

    def script(w: Worker) -> None:
        flow = w.claim("flow")
        w.report(flow, counters={"num_export": 2}, status_details={"phase": "exporting"})
        exp = w.claim("export")
        w.report(exp, counters={"num_export": 2, "num_pages": 1})
        w.pause("running")
        w.report(exp, status="succeeded")
        error = {"code": "E_REMOTE", "message": "the import endpoint said no"}
        w.report(flow, counters={"num_error": 2}, status="failed", error=error)

    worker = Worker(tenant, "celigo", script)
    worker.reached("running")
    assert agree(faces, flow_id)["num_export"] == 2
    assert agree(faces, export["_id"])["num_pages"] == 1
    worker.resume()
    worker.join()
    failed = agree(faces, flow_id)
    assert (failed["status"], failed["error"]["code"]) == ("failed", "E_REMOTE")
    assert agree(faces, export["_id"])["status"] == "succeeded"


# started through Finch -----------------------------------------------------------------------
def test_finch_jobs_killed_and_refused_read_alike_everywhere(tenant: Tenant, faces: Faces) -> None:
    sync = ok(faces.finch.post("/jobs/automated", json={"type": "data_sync_all"}), 201)
    w4_body = {"type": "w4_form_employee_sync", "params": {"individual_id": "ind-1"}}
    w4 = ok(faces.finch.post("/jobs/automated", json=w4_body), 201)
    for created in (sync, w4):
        assert agree(faces, created["job_id"])["status"] == "queued"

    def script(w: Worker) -> None:
        ex = w.claim("data_sync_all")
        w.report(ex, status_details={"phase": "directory"}, counters={"num_success": 5})
        w.pause("running")
        w.run_until_killed(ex)
        refused = w.claim("w4_form_employee_sync")
        w.report(refused, status="failed", error={"code": "reauth_error", "message": "re-auth"})

    worker = Worker(tenant, "finch", script)
    worker.reached("running")
    assert agree(faces, sync["job_id"])["status"] == "in_progress"
    # Killed through a third face: Celigo's cancel.
    assert ok(faces.celigo.put(f"/jobs/{sync['job_id']}/cancel"))["status"] == "canceling"
    assert agree(faces, sync["job_id"])["status"] == "canceling"
    worker.resume()
    worker.join()
    killed = agree(faces, sync["job_id"])
    assert (killed["status"], killed["num_success"]) == ("canceled", 5)
    assert agree(faces, w4["job_id"])["status"] == "failed"
    shown = ok(faces.finch.get(f"/jobs/automated/{w4['job_id']}"))
    assert (shown["status"], shown["params"]) == ("reauth_error", {"individual_id": "ind-1"})


# made for an IoT thing ------------------------------------------------------------------------
def test_thing_jobs_read_alike_everywhere(tenant: Tenant, faces: Faces) -> None:
    thing, guid = "pump-x", str(uuid.uuid4())
    faces.iot.create_thing(thingName=thing)
    faces.device = aws(tenant, "data", sigv4_key(tenant, "worker", things=[thing]))
    labels = {"content_guid": guid}
    with tenant.client() as c:
        job = create_job(
            c, type="firmware", queue="devices", targets=[thing], labels=labels, max_attempts=1
        )
        killed = create_job(
            c, type="firmware", queue="devices", targets=[thing], labels=labels, max_attempts=1
        )
    assert agree(faces, job["id"], guid, thing)["status"] == "queued"

    # The device runs the oldest; the other is killed through Connect before it starts.
    started = faces.device.start_next_pending_job_execution(
        thingName=thing, statusDetails={"step": "download"}
    )["execution"]
    assert started["jobId"] == job["id"]
    running = agree(faces, job["id"], guid, thing)
    assert running["status"] == "in_progress"
    kill = ok(faces.connect.delete(f"/v1/content/{guid}/jobs/{killed['id']}"))
    assert kill["result"] == "Job terminated"
    assert agree(faces, killed["id"], guid, thing)["status"] == "canceled"
    faces.device.update_job_execution(
        thingName=thing, jobId=job["id"], status="SUCCEEDED", statusDetails={"step": "done"}
    )
    assert agree(faces, job["id"], guid, thing)["status"] == "succeeded"


def test_an_iot_fleet_job_reads_alike_everywhere(tenant: Tenant, faces: Faces) -> None:
    thing = "valve-x"
    faces.iot.create_thing(thingName=thing)
    faces.device = aws(tenant, "data", sigv4_key(tenant, "worker", things=[thing]))
    target = f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/{thing}"
    faces.iot.create_job(jobId="fw-x", targets=[target], document='{"v": 2}')
    query = {"label.iot.job": "fw-x", "type": "iot.job"}
    (child,) = ok(faces.native.get("/v1/jobs", params=query))["items"]
    parent_id = child["parent_id"]
    assert agree(faces, child["id"], thing=thing)["status"] == "queued"

    def fleet_agrees() -> JSON:
        parent = agree(faces, parent_id)
        shown = faces.iot.describe_job(jobId="fw-x")["job"]
        fleet_status = {"in_progress": "IN_PROGRESS", "completed": "COMPLETED"}
        assert shown["status"] == fleet_status.get(parent["status"], parent["status"].upper())
        assert same_instant(shown.get("completedAt"), parsed(parent["completed_at"]))
        assert same_instant(shown["lastUpdatedAt"], parsed(parent["updated_at"]))
        return parent

    assert fleet_agrees()["status"] == "in_progress"
    faces.device.start_next_pending_job_execution(thingName=thing)
    assert agree(faces, child["id"], thing=thing)["status"] == "in_progress"
    faces.device.update_job_execution(thingName=thing, jobId="fw-x", status="SUCCEEDED")
    assert agree(faces, child["id"], thing=thing)["status"] == "succeeded"
    wait_until(lambda: faces.iot.describe_job(jobId="fw-x")["job"]["status"] == "COMPLETED")
    assert fleet_agrees()["status"] == "completed"


def test_a_fleet_job_was_created_when_its_parent_job_was(tenant: Tenant, faces: Faces) -> None:
    faces.iot.create_thing(thingName="gate-x")
    target = f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/gate-x"
    faces.iot.create_job(jobId="fw-y", targets=[target], document="{}")
    query = {"label.iot.job": "fw-y", "type": "iot.fleet"}
    (parent,) = ok(faces.native.get("/v1/jobs", params=query))["items"]
    shown = faces.iot.describe_job(jobId="fw-y")["job"]
    assert same_instant(shown["createdAt"], parsed(parent["created_at"]))
