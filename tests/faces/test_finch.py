"""The Finch face, driven by Finch's own Python client (`finch-api`) against a live server.

Jobs made through `/finch` are run by a real worker (a thread claiming from the `finch` queue
with `jobyard.Client`) and followed as a Finch user would follow them.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import finch
import httpx
import pytest

from jobyard.client import Client
from jobyard.client.models import ClaimedExecution, ExecutionUpdate, WorkerInfo
from tests.support import leaks
from tests.support.api import Tenant, get_job, new_tenant, wait_until
from tests.support.server import Server, start_server

JSON = dict[str, Any]
Outcome = Callable[[ClaimedExecution], JSON]


_OPEN: list[finch.Finch] = []


def finch_client(server: Server, token: str) -> finch.Finch:
    """Finch's client pointed at the face (closed after each test)."""
    fc = finch.Finch(access_token=token, base_url=server.url + "/finch", max_retries=0)
    _OPEN.append(fc)
    return fc


@pytest.fixture(autouse=True)
def _close_finch_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def succeed(ex: ClaimedExecution) -> JSON:
    return {"status": "succeeded", "result": {"body": [{"synced": ex.type}]}}


class Worker:
    """A worker thread: claims from the `finch` queue, tells the test what it took, waits for
    a permit, then reports what `outcome` says for that execution."""

    def __init__(self, server: Server, key: str, outcome: Outcome = succeed) -> None:
        self.client = Client(server.url, key)
        self.outcome = outcome
        self.taken: queue.Queue[str] = queue.Queue()
        self.permits: queue.Queue[bool] = queue.Queue()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        info = WorkerInfo(id="finch-test-worker")
        while not self.stop.is_set():
            for ex in self.client.claim(["finch"], wait_s=0.5, lease_s=30, worker=info):
                self.taken.put(ex.job_id)
                if not self.permits.get(timeout=20):
                    return
                update = ExecutionUpdate(
                    job_id=ex.job_id,
                    execution_number=ex.execution_number,
                    expected_version=ex.version,
                    **self.outcome(ex),
                )
                self.client.update_execution(update)

    def took(self) -> str:
        return self.taken.get(timeout=10)

    def finish(self) -> None:
        self.permits.put(True)

    def close(self) -> None:
        self.stop.set()
        self.permits.put(False)
        self.thread.join(10)
        self.client.close()


@pytest.fixture
def worker(tenant: Tenant) -> Iterator[Callable[[Outcome], Worker]]:
    made: list[Worker] = []

    def make(outcome: Outcome = succeed) -> Worker:
        w = Worker(tenant.server, tenant.new_key("worker", queues=["finch"]), outcome)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


def clear_of_the_hour(margin_s: int = 60) -> None:
    """Quotas count per clock hour: a test that must stay inside one hour waits out its end."""
    now = datetime.now(UTC)
    left = 3600 - (now.minute * 60 + now.second)
    if left < margin_s:
        time.sleep(left + 1)


def status_of(fc: finch.Finch, job_id: str) -> str:
    return str(fc.jobs.automated.retrieve(job_id).status)


def test_data_sync_runs_once_per_connection_within_its_quota(
    tenant: Tenant, worker: Callable[[Outcome], Worker]
) -> None:
    clear_of_the_hour()
    fc = finch_client(tenant.server, tenant.admin_key)
    created = fc.jobs.automated.create(type="data_sync_all")
    job_id = created.job_id
    assert job_id is not None
    assert (created.allowed_refreshes, created.remaining_refreshes) == (1, 0)
    assert created.job_url == f"{tenant.server.url}/finch/jobs/automated/{job_id}"
    job = fc.jobs.automated.retrieve(job_id)
    assert (job.type, job.status, job.started_at, job.completed_at) == (
        "data_sync_all",
        "pending",
        None,
        None,
    )

    again = fc.jobs.automated.create(type="data_sync_all")  # still pending: the same job
    assert again.job_id == job_id

    w = worker(succeed)
    assert w.took() == job_id
    assert status_of(fc, job_id) == "in_progress"
    assert fc.jobs.automated.create(type="data_sync_all").job_id == job_id
    w.finish()
    wait_until(lambda: status_of(fc, job_id) == "complete")
    job = fc.jobs.automated.retrieve(job_id)
    assert job.started_at is not None
    assert job.completed_at is not None
    assert job.completed_at >= job.started_at >= job.created_at

    # The hour's one refresh is spent: Finch's 429, with when to come back.
    with pytest.raises(finch.RateLimitError) as refused:
        fc.jobs.automated.create(type="data_sync_all")
    body = refused.value.body
    assert isinstance(body, dict)
    assert (body["code"], body["name"]) == (429, "rate_limit_error")
    assert (body["allowed_refreshes"], body["remaining_refreshes"]) == (1, 0)
    assert body["retry_at"].endswith(":00:00Z")
    assert int(refused.value.response.headers["Retry-After"]) <= 3600

    listed = fc.jobs.automated.list(limit=10, offset=0)
    assert [j.job_id for j in listed.data] == [job_id]
    assert listed.meta.quotas is not None
    quota = listed.meta.quotas.data_sync_all
    assert quota is not None
    assert (quota.allowed_refreshes, quota.remaining_refreshes) == (1, 0)
    assert fc.jobs.automated.list(limit=10, offset=1).data == []

    manual = fc.jobs.manual.retrieve(job_id)
    assert (manual.status, manual.body) == ("complete", [{"synced": "data_sync_all"}])

    # The same job, seen through the native API with the same key.
    with tenant.client() as c:
        native = get_job(c, job_id)
    assert (native["status"], native["type"], native["queue"]) == (
        "succeeded",
        "data_sync_all",
        "finch",
    )
    assert native["labels"]["finch.connection"] == native["owner"]


def _fail_with(codes: dict[str, JSON]) -> Outcome:
    def outcome(ex: ClaimedExecution) -> JSON:
        return {"status": "failed", "error": codes[str(ex.params.get("individual_id", "sync"))]}

    return outcome


def test_failures_map_to_finch_error_statuses(
    tenant: Tenant, worker: Callable[[Outcome], Worker]
) -> None:
    fc = finch_client(tenant.server, tenant.admin_key)
    codes: dict[str, JSON] = {
        "ind-1": {"code": "reauth_error", "message": "token revoked"},
        "ind-2": {"finch_code": "insufficient_account_permissions"},
        "sync": {"code": "provider_down", "message": "502 from the provider"},
    }
    w = worker(_fail_with(codes))
    expected = {"ind-1": "reauth_error", "ind-2": "permissions_error"}
    for individual, status in expected.items():
        made = fc.jobs.automated.create(
            type="w4_form_employee_sync", params={"individual_id": individual}
        )
        assert made.job_id is not None
        assert w.took() == made.job_id
        w.finish()
        job_id = made.job_id

        def ended(job_id: str = job_id) -> bool:
            return status_of(fc, job_id) not in ("pending", "in_progress")

        wait_until(ended)
        job = fc.jobs.automated.retrieve(job_id)
        assert (job.status, job.params and job.params.individual_id) == (status, individual)
        assert fc.jobs.manual.retrieve(job_id).status == "error"

    sync = fc.jobs.automated.create(type="data_sync_all")
    assert sync.job_id is not None
    assert w.took() == sync.job_id
    w.finish()
    sync_id = sync.job_id
    wait_until(lambda: status_of(fc, sync_id) == "error")  # a failure is final: no retry
    with tenant.client() as c:
        assert get_job(c, sync_id)["attempts"] == 1

    # A kill: a job canceled through the native API ends in `error` too.
    w.close()
    member = tenant.new_key("member")
    other = finch_client(tenant.server, member)  # another connection: its own job and quota
    queued = other.jobs.automated.create(type="data_sync_all")
    assert queued.job_id is not None
    assert queued.job_id != sync_id
    with tenant.client(member) as c:
        assert c.post(f"/v1/jobs/{queued.job_id}/cancel").status_code == 202
    assert status_of(other, queued.job_id) == "error"
    assert [j.job_id for j in other.jobs.automated.list().data] == [queued.job_id]


def test_one_active_job_even_under_concurrent_requests(tenant: Tenant) -> None:
    def create(_: int) -> httpx.Response:
        with httpx.Client(base_url=tenant.server.url, timeout=30) as c:
            return c.post(
                "/finch/jobs/automated",
                json={"type": "data_sync_all"},
                headers={"Authorization": f"Bearer {tenant.admin_key}"},
            )

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(create, range(16)))
    assert sorted({r.status_code for r in answers}) in ([200, 201], [201])
    assert [r.status_code for r in answers].count(201) == 1
    assert len({r.json()["job_id"] for r in answers}) == 1

    # A rotated key keeps the connection: the same running job.
    with tenant.client() as c:
        me = c.get("/v1/me").json()
        rotated = c.post(f"/v1/keys/{me['key_id']}/rotate").json()["key"]
    fc = finch_client(tenant.server, rotated)
    assert fc.jobs.automated.create(type="data_sync_all").job_id == answers[0].json()["job_id"]


def test_errors_come_in_finch_shape(tenant: Tenant, live_server: Server) -> None:
    fc = finch_client(tenant.server, tenant.admin_key)
    made = fc.jobs.automated.create(type="data_sync_all")
    assert made.job_id is not None

    with pytest.raises(finch.AuthenticationError) as bad_token:
        finch_client(tenant.server, "jy_not_a_real_key").jobs.automated.list()
    assert isinstance(bad_token.value.body, dict)
    assert bad_token.value.body["name"] == "invalid_token_error"
    with httpx.Client(base_url=tenant.server.url) as raw:
        missing = raw.get("/finch/jobs/automated")
        assert missing.status_code == 401
        assert missing.json()["name"] == "unauthorized_request_error"
        auth = {"Authorization": f"Bearer {tenant.admin_key}"}
        versioned = raw.get(
            "/finch/jobs/automated", headers={**auth, "Finch-API-Version": "2020-09-17"}
        )
        assert versioned.status_code == 200
        unversioned = raw.get(f"/finch/jobs/automated/{made.job_id}", headers=auth)
        assert unversioned.json()["status"] == "pending"
        w4 = raw.post("/finch/jobs/automated", json={"type": "w4_form_employee_sync"}, headers=auth)
        assert (w4.status_code, w4.json()["finch_code"]) == (400, "invalid_request")
        in_url = raw.get("/finch/jobs/automated", params={"access_token": tenant.admin_key})
        assert in_url.status_code == 400

    with pytest.raises(finch.BadRequestError) as bad_version:
        fc.jobs.automated.list(extra_headers={"Finch-API-Version": "2020-13-45"})
    assert bad_version.value.body == {
        "code": 400,
        "name": "bad_request",
        "finch_code": "invalid_request",
        "message": "Finch-API-Version must be a date such as 2020-09-17",
    }
    with pytest.raises(finch.BadRequestError):
        fc.jobs.automated.create(type="nightly_sync")  # type: ignore[call-overload]
    with pytest.raises(finch.BadRequestError):
        fc.jobs.automated.list(limit=0)

    missing_id = "0190c3f0-0000-7000-8000-000000000000"
    for fetch in (fc.jobs.automated.retrieve, fc.jobs.manual.retrieve):
        with pytest.raises(finch.NotFoundError) as nf:
            fetch(missing_id)
        assert isinstance(nf.value.body, dict)
        assert (nf.value.body["code"], nf.value.body["name"]) == (404, "not_found_error")
        with pytest.raises(finch.NotFoundError):
            fetch("not-an-id")

    # A viewer reads (its own connection's jobs: none), but cannot start a job.
    viewer = finch_client(tenant.server, tenant.new_key("viewer"))
    with pytest.raises(finch.PermissionDeniedError) as denied:
        viewer.jobs.automated.create(type="data_sync_all")
    assert isinstance(denied.value.body, dict)
    assert denied.value.body["name"] == "insufficient_scope_error"
    assert viewer.jobs.automated.list().data == []

    # Another tenant's job is not found, by either path.
    stranger = finch_client(live_server, new_tenant(live_server).admin_key)
    with pytest.raises(finch.NotFoundError):
        stranger.jobs.automated.retrieve(made.job_id)
    with pytest.raises(finch.NotFoundError):
        stranger.jobs.manual.retrieve(made.job_id)

    # A job that is not an automated job: manual only.
    with tenant.client() as c:
        plain = c.post("/v1/jobs", json={"type": "report.build"}).json()
    with pytest.raises(finch.NotFoundError):
        fc.jobs.automated.retrieve(plain["id"])
    assert fc.jobs.manual.retrieve(plain["id"]).status == "pending"


@pytest.fixture(scope="module")
def two_refreshes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own whose connections get two forced data syncs an hour."""
    data_dir: Path = tmp_path_factory.mktemp("finch-quota")
    url = f"sqlite:///{data_dir / 'jobyard.db'}"
    srv = start_server(url, data_dir, extra_env={"JOBYARD_FINCH_REFRESHES_PER_HOUR": "2"})
    yield srv
    srv.stop()
    assert "Traceback" not in srv.log(), srv.log()
    leaks.check_stopped_server(srv.url, data_dir, url)


def test_the_refresh_quota_is_the_servers_setting(two_refreshes: Server) -> None:
    clear_of_the_hour()
    tenant = new_tenant(two_refreshes)
    fc = finch_client(two_refreshes, tenant.admin_key)
    made: list[str] = []
    for remaining in (1, 0):
        created = fc.jobs.automated.create(type="data_sync_all")
        assert created.job_id is not None
        assert (created.allowed_refreshes, created.remaining_refreshes) == (2, remaining)
        made.append(created.job_id)
        with tenant.client() as c:  # ended (canceled before it ran): the next one is a new job
            assert c.post(f"/v1/jobs/{created.job_id}/cancel").status_code == 202
    assert made[0] != made[1]

    with pytest.raises(finch.RateLimitError) as refused:
        fc.jobs.automated.create(type="data_sync_all")
    body = refused.value.body
    assert isinstance(body, dict)
    assert (body["allowed_refreshes"], body["remaining_refreshes"]) == (2, 0)
    listed = fc.jobs.automated.list()
    assert [j.job_id for j in listed.data] == made[::-1]
    assert listed.meta.quotas is not None
    quota = listed.meta.quotas.data_sync_all
    assert quota is not None
    assert (quota.allowed_refreshes, quota.remaining_refreshes) == (2, 0)
    w4 = fc.jobs.automated.create(type="w4_form_employee_sync", params={"individual_id": "i-1"})
    assert (w4.allowed_refreshes, w4.remaining_refreshes) == (2, 0)  # no quota of its own


def test_paths_finch_has_and_this_face_does_not_serve(tenant: Tenant) -> None:
    auth = {"Authorization": f"Bearer {tenant.admin_key}"}
    with httpx.Client(base_url=tenant.server.url + "/finch", headers=auth) as raw:
        for path in ("/employer/directory", "/jobs/automated/x/y"):
            r = raw.get(path)
            assert r.status_code == 404, r.text
            assert r.json()["code"] == 404
            assert r.json()["name"] == "not_found_error"
        r = raw.delete("/jobs/automated")
        assert r.status_code == 405, r.text
        assert (r.json()["code"], r.json()["name"]) == (405, "method_not_allowed")
        assert r.headers["Allow"] == "GET, POST"
        r = raw.get("/jobs/automated", params={"limit": "ten", "offset": "-1"})
        assert (r.status_code, r.json()["finch_code"]) == (400, "invalid_request")
        r = raw.get("/jobs/automated", params={"offset": "100001"})
        assert (r.status_code, r.json()["name"]) == (400, "bad_request")
        r = raw.post(
            "/jobs/automated", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert (r.status_code, r.json()["name"]) == (400, "bad_request")


def test_a_native_job_with_finch_labels_is_the_connections_running_job(tenant: Tenant) -> None:
    """The one-running-job rule is the face's: the native API makes what it is asked for, and
    the face then answers that job as the connection's running one."""
    member = tenant.new_key("member")
    with tenant.client(member) as c:
        subject = c.get("/v1/me").json()["subject"]
        labels = {"finch.connection": subject}
        native = [
            c.post("/v1/jobs", json={"type": "data_sync_all", "queue": "finch", "labels": labels})
            for _ in range(2)
        ]
    assert [r.status_code for r in native] == [201, 201]  # not refused natively
    fc = finch_client(tenant.server, member)
    answered = fc.jobs.automated.create(type="data_sync_all")
    assert answered.job_id == native[1].json()["id"]  # the newest active one, not a new job
    listed = [j.job_id for j in fc.jobs.automated.list().data]
    assert listed == [native[1].json()["id"], native[0].json()["id"]]


def test_a_connection_reads_only_its_own_automated_jobs(tenant: Tenant) -> None:
    clear_of_the_hour()
    mine = finch_client(tenant.server, tenant.admin_key)
    job_id = mine.jobs.automated.create(type="data_sync_all").job_id
    assert job_id is not None
    theirs = finch_client(tenant.server, tenant.new_key("admin"))  # another connection
    with pytest.raises(finch.NotFoundError):
        theirs.jobs.automated.retrieve(job_id)
    assert [j.job_id for j in theirs.jobs.automated.list().data] == []
    assert mine.jobs.automated.retrieve(job_id).job_id == job_id
