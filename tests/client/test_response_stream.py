"""A read response is freed by reference counting: requests leave nothing for the cycle
collector, whose pauses would otherwise hold up every job a worker is waiting for."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

from jobyard.client import AsyncClient, Client

JOB_ID = "00000000-0000-7000-8000-000000000001"
JOB = {
    "id": JOB_ID,
    "type": "t",
    "queue": "default",
    "status": "queued",
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}
REQUESTS = 20


def server() -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(200, json=JOB))


@contextmanager
def collector_off() -> Iterator[Callable[[], int]]:
    """Yields a function answering how many unreachable objects were made since the start."""
    gc.collect()
    gc.disable()
    try:
        yield gc.collect
    finally:
        gc.enable()


def test_the_client_leaves_no_reference_cycles() -> None:
    with Client("http://test", "k", transport=server()) as client:
        client.get_job(JOB_ID)  # first calls fill caches
        with collector_off() as unreachable:
            for _ in range(REQUESTS):
                assert client.get_job(JOB_ID).id == JOB_ID
            assert unreachable() == 0


def test_the_async_client_leaves_no_reference_cycles() -> None:
    async def run() -> int:
        async with AsyncClient("http://test", "k", transport=server()) as client:
            await client.get_job(JOB_ID)
            with collector_off() as unreachable:
                for _ in range(REQUESTS):
                    assert (await client.get_job(JOB_ID)).id == JOB_ID
                return unreachable()

    assert asyncio.run(run()) == 0
