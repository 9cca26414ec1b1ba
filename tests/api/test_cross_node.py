"""Two server processes on one PostgreSQL database: what one is told, the other's tails see."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_logs import append, read_sse
from tests.support import databases
from tests.support.api import claim_one, create_job, new_tenant, report
from tests.support.server import Server, start_server

pytestmark = pytest.mark.postgres


@pytest.fixture
def two_nodes(pg_template: str, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    name, url = databases.create_database(pg_template)
    a = start_server(url, tmp_path / "a")
    b = start_server(url, tmp_path / "b", extra_env={"JOBYARD_ADMIN_KEY": a.admin_key})
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()
        databases.drop_database(name)


def test_a_tail_on_one_node_sees_lines_sent_to_the_other(two_nodes: tuple[Server, Server]) -> None:
    a, b = two_nodes
    tenant = new_tenant(a)
    with a.client(tenant.admin_key) as on_a, b.client(tenant.admin_key) as on_b:
        job = create_job(on_b)
        got: list[Any] = []
        tail = threading.Thread(target=lambda: read_sse(on_a, job["id"], events=got))
        tail.start()
        time.sleep(0.3)
        ex = claim_one(on_b)
        sent_at = time.monotonic()
        append(on_b, ex, ["from b"])
        while not got and time.monotonic() - sent_at < 5:
            time.sleep(0.01)
        assert got, "the tail on node a saw nothing"
        # a notification crosses in milliseconds; the bound leaves room for a loaded machine
        assert time.monotonic() - sent_at < 2
        append(on_b, ex, [f"more {i}" for i in range(99)])
        assert report(on_b, ex, status="succeeded").status_code == 200
        tail.join(20)
        assert [e["data"] for _, e in got[:-1]] == ["from b"] + [f"more {i}" for i in range(99)]


def test_a_long_poll_on_one_node_wakes_for_a_job_made_on_the_other(
    two_nodes: tuple[Server, Server],
) -> None:
    a, b = two_nodes
    tenant = new_tenant(a)
    with a.client(tenant.admin_key) as on_a, b.client(tenant.admin_key) as on_b:
        result: list[Any] = []
        waiting = threading.Thread(
            target=lambda: result.append(
                on_a.post("/v1/claims", json={"queues": ["x"], "wait_s": 10}).json()
            )
        )
        waiting.start()
        time.sleep(0.3)
        made = time.monotonic()
        job = create_job(on_b, queue="x")
        waiting.join(15)
        assert time.monotonic() - made < 2
        assert [e["job_id"] for e in result[0]["executions"]] == [job["id"]]
