"""`/healthz` and `/metrics` on a real server."""

from __future__ import annotations

import httpx

from tests.support.api import Tenant, claim_one, create_job
from tests.support.server import Server


def test_healthz_answers_without_a_key(live_server: Server) -> None:
    r = httpx.get(live_server.url + "/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def counter(c: httpx.Client, sample: str) -> float:
    """The value of one Prometheus sample (0 when it has not appeared yet)."""
    r = c.get("/metrics")
    assert r.status_code == 200
    for line in r.text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_created_and_claimed(tenant: Tenant, client: httpx.Client) -> None:
    created = f'jobyard_jobs_created_total{{queue="metrics-q",tenant="{tenant.id}"}}'
    claimed = f'jobyard_executions_claimed_total{{queue="metrics-q",tenant="{tenant.id}"}}'
    before = counter(client, created), counter(client, claimed)
    create_job(client, queue="metrics-q")
    create_job(client, queue="metrics-q")
    claim_one(client, "metrics-q")
    after = counter(client, created), counter(client, claimed)
    assert after == (before[0] + 2, before[1] + 1)
