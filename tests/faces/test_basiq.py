"""The Basiq face, driven by Basiq's own Python client (`basiq`) against a live server.

A connection made through `/basiq` starts a job whose steps (`verify-credentials`,
`retrieve-accounts`, `retrieve-transactions`) a real worker advances: a thread claiming from the
`basiq` queue with `jobyard.Client`. The test follows it as a Basiq user would: through the
client's own `waitFor...` polling, the job's steps and the user's job list with a filter.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from basiq import API, HTTPError, Session  # type: ignore[import-untyped]
from basiq.services import ConnectionService, UserService  # type: ignore[import-untyped]

from jobyard.client import Client
from jobyard.client.models import ClaimedExecution, ExecutionUpdate, WorkerInfo
from tests.support.api import Tenant, get_job, list_all, new_tenant, wait_until
from tests.support.server import Server

JSON = dict[str, Any]
STEPS = ["verify-credentials", "retrieve-accounts", "retrieve-transactions"]
BAD_LOGIN = {"code": "invalid-credentials", "title": "Cannot login", "detail": "wrong password"}


class Worker:
    """Claims connection jobs from the `basiq` queue and runs their steps by the login id:
    `good` passes every step, `wrong` fails `verify-credentials`, `slow` stops in
    `retrieve-accounts` until it is told to stop (a kill order), then reports `canceled`."""

    def __init__(self, server: Server, key: str) -> None:
        self.client = Client(server.url, key)
        self.stop = threading.Event()
        self.holding = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        info = WorkerInfo(id="basiq-worker", hostname="test", pid=1)
        while not self.stop.is_set():
            for ex in self.client.claim(["basiq"], wait_s=0.5, worker=info):
                self._work(ex)

    def _report(self, ex: ClaimedExecution, **fields: Any) -> bool:
        update = ExecutionUpdate(job_id=ex.job_id, execution_number=ex.execution_number, **fields)
        return self.client.update_execution(update).cancel_requested

    def _step(self, ex: ClaimedExecution, name: str, status: str, **extra: Any) -> bool:
        return self._report(ex, steps=[{"name": name, "status": status, **extra}])

    def _work(self, ex: ClaimedExecution) -> None:
        login = ex.params.get("loginId")
        self._step(ex, STEPS[0], "in_progress")
        if login == "wrong":
            self._step(ex, STEPS[0], "failed", error=BAD_LOGIN)
            self._report(ex, status="failed", error={"message": "wrong password"})
            return
        self._step(ex, STEPS[0], "succeeded")
        self._step(ex, STEPS[1], "in_progress")
        if login == "slow":
            self.holding.set()
            while not self._report(ex):  # heartbeats until a kill order comes
                time.sleep(0.05)
            self._report(ex, status="canceled")
            return
        self._step(ex, STEPS[1], "succeeded")
        self._step(ex, STEPS[2], "in_progress")
        self._step(ex, STEPS[2], "succeeded", result={"url": "/custom/transactions"})
        self._report(ex, status="succeeded")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        self.client.close()


@pytest.fixture
def worker(tenant: Tenant) -> Iterator[Worker]:
    w = Worker(tenant.server, tenant.new_key("worker", queues=["basiq"]))
    yield w
    w.close()


def session(server: Server, key: str) -> Session:
    """Basiq's client, pointed at the face through its own `API(host)` argument."""
    return Session(API(server.url + "/basiq"), key)


def token_of(server: Server, key: str) -> str:
    r = httpx.post(
        server.url + "/basiq/token",
        headers={"Authorization": f"Basic {key}", "basiq-version": "2.0"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    token: str = body["access_token"]
    return token


def basiq_get(server: Server, token: str, path: str, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.get(server.url + "/basiq" + path, headers=headers, params=params)


def basiq_error(r: httpx.Response, status: int, code: str) -> JSON:
    """The one error of a Basiq-shaped refusal, after checking its status, shape and code."""
    assert r.status_code == status, r.text
    body = r.json()
    assert body["type"] == "list"
    assert body["correlationId"]
    [error] = body["data"]
    assert error["type"] == "error"
    assert error["code"] == code, error
    assert error["title"]
    assert error["detail"]
    return dict(error)


def new_connection(s: Session, user: Any, login: str) -> Any:
    data = {"loginId": login, "password": "hunter2", "institution": {"id": "AU00000"}}
    return user.createConnection(data)


def test_a_connection_job_runs_its_steps_to_the_end(tenant: Tenant, worker: Worker) -> None:
    key = tenant.new_key("member")
    s = session(tenant.server, key)
    user = UserService(s).create(email="gavin@hooli.xyz", mobile="+61410888999")
    assert s.getUser(user.id).email == "gavin@hooli.xyz"

    job = new_connection(s, user, "good")
    connection = job.waitForTransactions(50, 20)  # the client's own polling
    assert connection is not False
    assert connection.status == "active"
    assert connection.institution["id"] == "AU00000"

    done = ConnectionService(s, user).getJob(job.id)
    assert [st["title"] for st in done.steps] == STEPS
    assert [st["status"] for st in done.steps] == ["success"] * 3
    assert done.steps[0]["result"] == {
        "type": "link",
        "url": f"/users/{user.id}/connections/{connection.id}",
    }
    assert done.steps[2]["result"] == {"type": "link", "url": "/custom/transactions"}
    assert done.getConnectionId() == connection.id
    assert done.links["self"].endswith(f"/basiq/jobs/{job.id}")

    # The same job through the native API, with the same key.
    with tenant.client(key) as c:
        native = get_job(c, job.id)
    assert native["status"] == "succeeded"
    assert native["labels"]["user_id"] == user.id
    assert native["labels"]["connection_id"] == connection.id
    assert [st["status"] for st in native["steps"]] == ["succeeded"] * 3
    assert "password" not in native["params"]
    assert native["params"]["loginId"] == "good"

    # A refresh is a new job on the same connection; the user's jobs list both, by filter.
    again = ConnectionService(s, user).forConnection(connection.id).refresh()
    assert again.id != job.id
    assert again.waitForTransactions(50, 20) is not False
    token = token_of(tenant.server, key)
    flt = f"connection.id.eq('{connection.id}')"
    listed = basiq_get(tenant.server, token, f"/users/{user.id}/jobs", filter=flt).json()
    assert listed["type"] == "list"
    assert listed["size"] == 2
    assert [j["id"] for j in listed["data"]] == [again.id, job.id]  # newest update first
    none = basiq_get(tenant.server, token, f"/users/{user.id}/jobs", filter="connection.id.eq('x')")
    assert none.json()["size"] == 0
    odd = basiq_get(
        tenant.server, token, f"/users/{user.id}/jobs", filter="connection.id.eq('\x00')"
    )
    assert odd.json()["size"] == 0
    today = time.strftime("%Y-%m-%d", time.gmtime())
    dated = basiq_get(
        tenant.server, token, f"/users/{user.id}/jobs", filter=f"{flt},job.created.gteq('{today}')"
    )
    assert dated.json()["size"] == 2
    later = basiq_get(
        tenant.server, token, f"/users/{user.id}/jobs", filter="job.created.gt('2999-01-01')"
    )
    assert later.json()["size"] == 0

    listed_connections = s.forUser(user.id).listAllConnections()
    assert [c["id"] for c in listed_connections["data"]] == [connection.id]


def test_a_refused_login_fails_the_first_step_with_its_error(
    tenant: Tenant, worker: Worker
) -> None:
    key = tenant.new_key("member")
    s = session(tenant.server, key)
    user = UserService(s).create(email="ada@example.com")
    job = new_connection(s, user, "wrong")
    assert job.waitForCredentials(50, 20) is False  # the client's answer to a failed step

    failed = ConnectionService(s, user).getJob(job.id)
    assert [st["status"] for st in failed.steps] == ["failed", "pending", "pending"]
    assert failed.steps[0]["result"] == {"type": "error", **BAD_LOGIN}
    assert failed.steps[1]["result"] is None
    connection = ConnectionService(s, user).get(failed.getConnectionId())
    assert connection.status == "invalid"
    with tenant.client(key) as c:
        assert get_job(c, job.id)["status"] == "failed"


def test_a_killed_job_reads_as_a_failed_step(tenant: Tenant, worker: Worker) -> None:
    key = tenant.new_key("member")
    s = session(tenant.server, key)
    user = UserService(s).create(mobile="+61400000000")
    job = new_connection(s, user, "slow")
    assert worker.holding.wait(10)
    running = ConnectionService(s, user).getJob(job.id)
    assert [st["status"] for st in running.steps] == ["success", "in-progress", "pending"]

    with tenant.client(key) as c:
        r = c.post(f"/v1/jobs/{job.id}/cancel", json={"reason": "user left"})
        assert r.status_code == 202, r.text
        wait_until(lambda: get_job(c, job.id)["status"] == "canceled")
    ended = ConnectionService(s, user).getJob(job.id)
    assert [st["status"] for st in ended.steps] == ["success", "failed", "pending"]
    assert ended.steps[1]["result"]["code"] == "job-canceled"
    assert job.waitForAccounts(50, 5) is False


def test_tokens_come_from_keys_and_die_with_them(tenant: Tenant) -> None:
    server = tenant.server
    key = tenant.new_key("member")
    # HTTP Basic as a generic client sends it (base64 of user:password) works too.
    encoded = base64.b64encode(f"any:{key}".encode()).decode()
    r = httpx.post(
        server.url + "/basiq/token",
        headers={"Authorization": f"Basic {encoded}", "basiq-version": "3.0"},
        content="scope=SERVER_ACCESS",
    )
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert key not in token

    refused = httpx.post(
        server.url + "/basiq/token",
        headers={"Authorization": "Basic jy_0000000000000000_nope", "basiq-version": "2.0"},
    )
    basiq_error(refused, 404, "resource-not-found")
    no_version = httpx.post(server.url + "/basiq/token", headers={"Authorization": f"Basic {key}"})
    assert basiq_error(no_version, 400, "parameter-not-supplied")["source"] == {
        "parameter": "basiq-version"
    }
    basiq_error(httpx.post(server.url + "/basiq/token"), 400, "parameter-not-supplied")

    with pytest.raises(HTTPError) as caught:  # the client reads the error's shape
        session(server, "jy_0000000000000000_nope")
    assert caught.value.correlationId
    assert "authenticate" in caught.value.get_message()

    basiq_error(basiq_get(server, "garbage", "/jobs/x"), 401, "unauthorized-access")
    basiq_error(basiq_get(server, token + "x", "/jobs/x"), 401, "unauthorized-access")
    basiq_error(basiq_get(server, token, "/jobs/nope"), 404, "resource-not-found")

    # Revoking the key voids the tokens it bought.
    with tenant.client() as c:
        me = httpx.get(server.url + "/v1/me", headers={"Authorization": f"Bearer {key}"}).json()
        assert c.delete(f"/v1/keys/{me['key_id']}").status_code == 200
    basiq_error(basiq_get(server, token, "/jobs/nope"), 401, "unauthorized-access")


def test_bad_requests_answer_in_basiqs_shape(tenant: Tenant) -> None:
    server = tenant.server
    token = token_of(server, tenant.new_key("member"))
    headers = {"Authorization": f"Bearer {token}"}
    users = server.url + "/basiq/users"
    e = basiq_error(httpx.post(users, headers=headers, json={}), 400, "parameter-not-supplied")
    assert e["source"] == {"pointer": "user"}
    bad_email = httpx.post(users, headers=headers, json={"email": "not an email"})
    basiq_error(bad_email, 400, "parameter-not-valid")
    not_json = httpx.post(users, headers=headers, content=b"{nope")
    basiq_error(not_json, 400, "invalid-content")
    user = httpx.post(users, headers=headers, json={"email": "a@b.co"}).json()
    assert user["type"] == "user"
    no_institution = httpx.post(
        f"{users}/{user['id']}/connections",
        headers=headers,
        json={"loginId": "x", "password": "y"},
    )
    e = basiq_error(no_institution, 400, "parameter-not-supplied")
    assert e["source"] == {"pointer": "connection/institution/id"}
    for flt in (
        "connection.id.gt('x')",
        "account.id.eq('x')",
        "connection.id.eq(x)",
        "job.created.gteq('yesterday')",
    ):
        r = basiq_get(server, token, f"/users/{user['id']}/jobs", filter=flt)
        assert basiq_error(r, 400, "parameter-not-valid")["source"] == {"parameter": "filter"}
    basiq_error(basiq_get(server, token, "/users/nobody/jobs"), 404, "resource-not-found")
    basiq_error(basiq_get(server, token, "/institutions"), 404, "resource-not-found")
    gone = httpx.delete(f"{users}/{user['id']}", headers=headers)
    assert gone.status_code == 204
    basiq_error(basiq_get(server, token, f"/users/{user['id']}"), 404, "resource-not-found")


def test_roles_and_tenants_hold(tenant: Tenant, worker: Worker) -> None:
    server = tenant.server
    member = tenant.new_key("member")
    s = session(server, member)
    user = UserService(s).create(email="owner@example.com")
    job = new_connection(s, user, "good")
    connection = job.waitForCredentials(50, 20)
    assert connection is not False

    viewer = session(server, tenant.new_key("viewer"))  # a viewer reads, changes nothing
    assert ConnectionService(viewer, user).getJob(job.id).id == job.id
    with pytest.raises(HTTPError):
        UserService(viewer).create(email="v@example.com")
    token = token_of(server, tenant.new_key("viewer"))
    headers = {"Authorization": f"Bearer {token}"}
    refresh = httpx.post(
        f"{server.url}/basiq/users/{user.id}/connections/{connection.id}/refresh", headers=headers
    )
    basiq_error(refresh, 403, "forbidden-access")

    other = new_tenant(server)  # another tenant sees none of it
    stranger = token_of(server, other.admin_key)
    for path in (
        f"/jobs/{job.id}",
        f"/users/{user.id}",
        f"/users/{user.id}/jobs",
        f"/users/{user.id}/connections/{connection.id}",
    ):
        basiq_error(basiq_get(server, stranger, path), 404, "resource-not-found")
    other_refresh = httpx.post(
        f"{server.url}/basiq/users/{user.id}/connections/{connection.id}/refresh",
        headers={"Authorization": f"Bearer {stranger}"},
    )
    basiq_error(other_refresh, 404, "resource-not-found")


def test_users_are_kept_apart_from_the_tenants_jobs(tenant: Tenant) -> None:
    server = tenant.server
    key = tenant.new_key("member")
    s = session(server, key)
    kept = UserService(s).create(email="jared@hooli.xyz", mobile="+61400000001")
    gone = UserService(s).create(mobile="+61400000002")
    headers = {"Authorization": f"Bearer {token_of(server, key)}"}
    users = server.url + "/basiq/users"
    changed = httpx.post(
        f"{users}/{kept.id}",
        headers=headers,
        json={"firstName": "Jared", "lastName": "Dunn", "mobile": None},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["id"], body["email"], body["mobile"]) == (kept.id, "jared@hooli.xyz", "")
    assert (body["firstName"], body["middleName"], body["lastName"]) == ("Jared", "", "Dunn")
    no_contact = httpx.post(f"{users}/{kept.id}", headers=headers, json={"email": ""})
    assert basiq_error(no_contact, 400, "parameter-not-supplied")["source"] == {"pointer": "user"}
    assert httpx.delete(f"{users}/{gone.id}", headers=headers).status_code == 204
    basiq_error(httpx.delete(f"{users}/{gone.id}", headers=headers), 404, "resource-not-found")
    assert s.getUser(kept.id).email == "jared@hooli.xyz"

    with tenant.client(key) as c:
        assert list_all(c) == []  # a user is not a job, and no job stands for one
