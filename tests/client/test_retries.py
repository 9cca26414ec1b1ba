"""Retries: on connection errors and 429/503 only, honouring Retry-After, then typed errors."""

from __future__ import annotations

import httpx
import pytest

from jobyard.client import AsyncClient, Client, ConnectionFailed, RateLimitedError
from jobyard.client.errors import ValidationError
from jobyard.client.retrying import Retries
from tests.support.server import free_port

FAST = Retries(attempts=3, base_s=0.01, max_s=0.02)
JOB = {
    "id": "00000000-0000-7000-8000-000000000001",
    "type": "t",
    "queue": "default",
    "status": "queued",
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}


def scripted(statuses: list[int], seen: list[httpx.Request]) -> httpx.MockTransport:
    """A server that answers the given statuses in turn (the last one repeats)."""

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status = statuses[min(len(seen) - 1, len(statuses) - 1)]
        if status == 200:
            return httpx.Response(200, json=JOB)
        body = {"error": {"code": f"http_{status}", "message": "try later"}}
        return httpx.Response(status, json=body, headers={"Retry-After": "0"})

    return httpx.MockTransport(answer)


def test_503_then_success_is_retried_with_the_same_idempotency_key() -> None:
    seen: list[httpx.Request] = []
    with Client("http://test", "k", retries=FAST, transport=scripted([503, 429, 200], seen)) as c:
        job = c.create_job("t")
    assert job.id == JOB["id"]
    assert len(seen) == 3
    keys = {r.read() for r in seen}
    assert len(keys) == 1, "every attempt must send the same body and idempotency key"


def test_rate_limited_after_the_last_attempt() -> None:
    seen: list[httpx.Request] = []
    transport = scripted([429], seen)
    with (
        Client("http://test", "k", retries=FAST, transport=transport) as c,
        pytest.raises(RateLimitedError),
    ):
        c.get_job(str(JOB["id"]))
    assert len(seen) == FAST.attempts


def test_client_errors_are_not_retried() -> None:
    seen: list[httpx.Request] = []
    transport = scripted([422], seen)
    with (
        Client("http://test", "k", retries=FAST, transport=transport) as c,
        pytest.raises(ValidationError),
    ):
        c.create_job("t")
    assert len(seen) == 1


def test_unreachable_server_raises_connection_failed() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with Client(url, "k", retries=FAST) as c, pytest.raises(ConnectionFailed):
        c.list_jobs()


async def test_async_client_retries_too() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(503, json={"error": {"code": "busy", "message": "busy"}})
        return httpx.Response(200, json=JOB)

    transport = httpx.MockTransport(answer)
    async with AsyncClient("http://test", "k", retries=FAST, transport=transport) as c:
        job = await c.get_job(str(JOB["id"]))
    assert job.id == JOB["id"]
    assert len(seen) == 2
