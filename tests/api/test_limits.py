"""Limits over real HTTP: a key's request rate, failed authentications per client address, caps
on a key's live tails and long-polls, and CORS. Refusals are 429 with `Retry-After`.

Two servers of this module's own, on SQLite (the limits are in the server's memory, the same on
either backend): one with a low request rate and no CORS setting, one with low caps, a low
failed-authentication rate and CORS origins. Failed authentications are sent from other
loopback addresses (127.0.0.3, 127.0.0.4), so their lockouts never touch 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.support.api import (
    Tenant,
    claim_one,
    create_job,
    error_of,
    new_tenant,
    report,
    wait_until,
)
from tests.support.server import Server, start_server

RATE_PER_S, BURST = 2, 20
AUTH_FAILURES_PER_MIN = 30  # one back every 2 s
MAX_TAILS, MAX_POLLS = 2, 2
ORIGINS = ("https://app.example.com", "https://ops.example.com")
BAD_KEY = "jy_0123456789abcdef_not-a-key-of-this-server"


def _start(tmp: Path, env: dict[str, str]) -> Iterator[Server]:
    srv = start_server(f"sqlite:///{tmp / 'jobyard.db'}", tmp, extra_env=env)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def rated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {"JOBYARD_RATE_LIMIT_PER_S": str(RATE_PER_S), "JOBYARD_RATE_LIMIT_BURST": str(BURST)}
    yield from _start(tmp_path_factory.mktemp("rated"), env)


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {
        "JOBYARD_AUTH_FAILURES_PER_MIN": str(AUTH_FAILURES_PER_MIN),
        "JOBYARD_MAX_TAILS_PER_KEY": str(MAX_TAILS),
        "JOBYARD_MAX_POLLS_PER_KEY": str(MAX_POLLS),
        "JOBYARD_CORS_ORIGINS": " , ".join(ORIGINS),
    }
    yield from _start(tmp_path_factory.mktemp("capped"), env)


def _clean_tenant(server: Server) -> Iterator[Tenant]:
    seen = len(server.log())
    yield new_tenant(server)
    written = server.log()[seen:]
    assert "Traceback" not in written, written
    assert server.process.poll() is None, "the server exited"


@pytest.fixture
def rated_tenant(rated: Server) -> Iterator[Tenant]:
    yield from _clean_tenant(rated)


@pytest.fixture
def capped_tenant(capped: Server) -> Iterator[Tenant]:
    yield from _clean_tenant(capped)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_rate_limited(r: httpx.Response) -> int:
    """A 429 in the native error shape; answers its Retry-After, whole seconds."""
    assert error_of(r, 429)["code"] == "rate_limited"
    retry_after = r.headers["retry-after"]
    assert retry_after.isdigit(), retry_after
    assert int(retry_after) >= 1
    return int(retry_after)


# ---- a key's request rate -----------------------------------------------------------------


def test_a_key_over_its_rate_gets_429_then_recovers_and_other_keys_do_not_notice(
    rated_tenant: Tenant,
) -> None:
    key, other = rated_tenant.new_key("viewer"), rated_tenant.new_key("viewer")
    with rated_tenant.client(key) as c, rated_tenant.client(other) as o:
        answers = [c.get("/v1/jobs") for _ in range(BURST)]
        assert [r.status_code for r in answers] == [200] * BURST  # the burst passes ...
        while answers[-1].status_code == 200 and len(answers) < 2 * BURST:
            answers.append(c.get("/v1/jobs"))  # ... then the rate holds (a token may come back)
        retry_after = assert_rate_limited(answers[-1])
        assert retry_after == 1  # ceil(1 token / 2 a second)
        assert o.get("/v1/jobs").status_code == 200
        time.sleep(retry_after)
        assert c.get("/v1/jobs").status_code == 200


# ---- failed authentications per client address -------------------------------------------


def from_address(server: Server, address: str) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=server.url, transport=transport, timeout=30)


def fail_until_refused(c: httpx.Client) -> int:
    """Bad keys until the address is refused; answers how many were checked (and failed)."""
    for failures in range(AUTH_FAILURES_PER_MIN + 5):
        r = c.get("/v1/jobs", headers=bearer(BAD_KEY))
        if r.status_code == 429:
            return failures
        assert r.status_code == 401, r.text
    raise AssertionError("never refused")


def test_failed_authentications_lock_an_address_out_before_any_key_is_checked(
    capped: Server, capped_tenant: Tenant
) -> None:
    good = capped_tenant.admin_key
    with from_address(capped, "127.0.0.3") as c:
        # The first AUTH_FAILURES_PER_MIN are answered; one may come back while they are sent.
        assert AUTH_FAILURES_PER_MIN <= fail_until_refused(c) <= AUTH_FAILURES_PER_MIN + 1
        retry_after = assert_rate_limited(c.get("/v1/jobs", headers=bearer(BAD_KEY)))
        assert retry_after == 2  # one failure back every 60/30 s
        # A good key from there is refused unchecked too: a lucky guess would learn nothing.
        assert_rate_limited(c.get("/v1/jobs", headers=bearer(good)))
        assert c.get("/v1/jobs").status_code == 401  # no key: nothing to check, as ever
        # The same good key from another address is not affected.
        with capped_tenant.client() as elsewhere:
            assert elsewhere.get("/v1/jobs").status_code == 200
        time.sleep(retry_after)
        assert c.get("/v1/jobs", headers=bearer(good)).status_code == 200
        assert c.get("/v1/jobs", headers=bearer(BAD_KEY)).status_code == 401
        assert_rate_limited(c.get("/v1/jobs", headers=bearer(BAD_KEY)))


def test_successful_requests_do_not_count_as_failures(
    capped: Server, capped_tenant: Tenant
) -> None:
    good = capped_tenant.admin_key
    with from_address(capped, "127.0.0.4") as c:
        for _ in range(AUTH_FAILURES_PER_MIN - 1):
            assert c.get("/v1/jobs", headers=bearer(BAD_KEY)).status_code == 401
        for _ in range(2 * AUTH_FAILURES_PER_MIN):
            assert c.get("/v1/jobs", headers=bearer(good)).status_code == 200
        assert c.get("/v1/jobs", headers=bearer(BAD_KEY)).status_code == 401
        assert fail_until_refused(c) <= 1


# ---- live tails ---------------------------------------------------------------------------


def tail_url(job_id: str) -> str:
    return f"/v1/jobs/{job_id}/logs/stream"


def tail_opens(c: httpx.Client, job_id: str) -> bool:
    """Whether a tail opens now (it is closed at once): 200, or refused with 429."""
    with c.stream("GET", tail_url(job_id), timeout=10) as r:
        if r.status_code == 429:
            r.read()
            assert_rate_limited(r)
            return False
        assert r.status_code == 200, r.read()
        return True


def both_open(c: httpx.Client, job_id: str) -> bool:
    """Whether the key's two places are free: two tails open at once."""
    with c.stream("GET", tail_url(job_id)) as a, c.stream("GET", tail_url(job_id)) as b:
        return a.status_code == b.status_code == 200


def test_live_tails_are_capped_per_key_and_given_back_however_they_end(
    capped_tenant: Tenant,
) -> None:
    other = capped_tenant.new_key("admin")
    with capped_tenant.client() as c, capped_tenant.client(other) as o, ExitStack() as open_:
        job = create_job(c, queue="tails")
        tails = [open_.enter_context(c.stream("GET", tail_url(job["id"]))) for _ in range(2)]
        assert [t.status_code for t in tails] == [200, 200]
        assert not tail_opens(c, job["id"])
        assert tail_opens(o, job["id"])  # another key has places of its own

        tails.pop().close()  # the client hangs up: its place comes back
        wait_until(lambda: tail_opens(c, job["id"]), timeout_s=5)

        # A tail that ends with its job gives its place back too.
        ex = claim_one(c, "tails")
        assert report(c, ex, status="succeeded").status_code == 200
        assert b"event: end" in tails[0].read()
        wait_until(lambda: both_open(c, job["id"]), timeout_s=5)  # once the probes are gone

        # A refused tail (no such job) takes no place for good.
        for _ in range(MAX_TAILS + 1):
            error_of(c.get(tail_url("0" * 32)), 404)
        wait_until(lambda: both_open(c, job["id"]), timeout_s=5)


# ---- long-polls ---------------------------------------------------------------------------


async def test_long_polls_are_capped_per_key_and_given_back_when_the_client_hangs_up(
    capped: Server, capped_tenant: Tenant
) -> None:
    worker, other = capped_tenant.new_key("worker"), capped_tenant.new_key("worker")
    poll = {"queues": ["nothing-comes"], "wait_s": 30}
    probe = {"queues": ["nothing-comes"], "wait_s": 0.2}

    async with (
        httpx.AsyncClient(base_url=capped.url, headers=bearer(worker), timeout=60) as c,
        httpx.AsyncClient(base_url=capped.url, headers=bearer(other), timeout=60) as o,
    ):
        polls = [asyncio.create_task(c.post("/v1/claims", json=poll)) for _ in range(2)]
        try:
            await asyncio.sleep(0.3)  # let both reach the server before any probe does
            assert_rate_limited(await c.post("/v1/claims", json=probe))
            assert not any(p.done() for p in polls), [p.result().text for p in polls if p.done()]
            kills: dict[str, str | float] = {"queues": "nothing-comes", "wait_s": 1}
            assert_rate_limited(await c.get("/v1/workers/w1/kill-orders", params=kills))
            # A claim that does not wait is no long-poll, and another key has its own places.
            assert (await c.post("/v1/claims", json={"queues": ["nothing-comes"]})).is_success
            assert (await o.post("/v1/claims", json=probe)).is_success

            polls[0].cancel()  # the client hangs up, 29 s before the poll would end
            started = time.monotonic()
            while (await c.post("/v1/claims", json=probe)).status_code == 429:
                assert time.monotonic() - started < 5, "the place did not come back"
                await asyncio.sleep(0.05)
        finally:
            for task in polls:
                task.cancel()
            await asyncio.gather(*polls, return_exceptions=True)


def test_a_long_poll_that_fails_gives_its_place_back(capped_tenant: Tenant) -> None:
    narrow = capped_tenant.new_key("worker", queues=["mine"])
    with capped_tenant.client(narrow) as c:
        for _ in range(MAX_POLLS + 1):  # each takes a place, then fails: 403
            r = c.post("/v1/claims", json={"queues": ["not-mine"], "wait_s": 5})
            assert error_of(r, 403)["code"] == "forbidden"
        for _ in range(MAX_POLLS + 1):  # each ends when its wait does
            r = c.post("/v1/claims", json={"queues": ["mine"], "wait_s": 0.1})
            assert r.status_code == 200, r.text


# ---- CORS ---------------------------------------------------------------------------------


def preflight(c: httpx.Client, origin: str) -> httpx.Response:
    return c.options(
        "/v1/jobs",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def test_no_cors_unless_configured(rated_tenant: Tenant) -> None:
    with rated_tenant.client() as c:  # a server with no CORS setting
        for origin in ("https://app.example.com", "null", "http://127.0.0.1:1"):
            assert "access-control-allow-origin" not in preflight(c, origin).headers
            r = c.get("/v1/jobs", headers={"Origin": origin})
            assert r.status_code == 200
            assert not [h for h in r.headers if h.startswith("access-control-")]


def test_configured_origins_and_only_they_get_cors(capped_tenant: Tenant) -> None:
    with capped_tenant.client() as c:
        for origin in ORIGINS:
            r = preflight(c, origin)
            assert r.status_code == 200
            assert r.headers["access-control-allow-origin"] == origin
            assert "authorization" in r.headers["access-control-allow-headers"].lower()
            assert "POST" in r.headers["access-control-allow-methods"]
            r = c.get("/v1/jobs", headers={"Origin": origin})
            assert r.headers["access-control-allow-origin"] == origin
            assert "retry-after" in r.headers["access-control-expose-headers"].lower()
            # Refusals carry them too, so a page can read why.
            refused = c.get("/v1/jobs", headers={"Origin": origin, **bearer(BAD_KEY)})
            assert refused.status_code == 401
            assert refused.headers["access-control-allow-origin"] == origin
        for origin in ("https://evil.example.com", "https://app.example.com.evil.example", "null"):
            assert "access-control-allow-origin" not in preflight(c, origin).headers
            r = c.get("/v1/jobs", headers={"Origin": origin})
            assert r.status_code == 200
            assert "access-control-allow-origin" not in r.headers
