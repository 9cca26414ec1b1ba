"""Prometheus metrics, counted where the use cases happen so every front end is measured alike.

Every series about a tenant's work carries a `tenant` label; a tenant admin reading `/metrics`
sees only its own tenant's series, the system admin sees everything (process metrics too).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

JOBS_CREATED = Counter("jobyard_jobs_created_total", "Jobs created.", ["tenant", "queue"])
EXECUTIONS_CLAIMED = Counter(
    "jobyard_executions_claimed_total", "Executions claimed.", ["tenant", "queue"]
)
EXECUTION_UPDATES = Counter(
    "jobyard_execution_updates_total",
    "Worker updates, by the status they report and whether they were applied.",
    ["tenant", "status", "applied"],
)
SWEPT = Counter(
    "jobyard_sweeper_events_total",
    "Time-based transitions made by the sweeper (all tenants).",
    ["event"],
)


class _TenantView(Collector):
    """The registry's series that carry `tenant=<tenant_id>`, and nothing else."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id

    def collect(self) -> Iterator[Metric]:
        for family in REGISTRY.collect():
            samples = [s for s in family.samples if s.labels.get("tenant") == self.tenant_id]
            if samples:
                family.samples = samples
                yield family


def exposition(tenant_id: str | None) -> bytes:
    """The text format for one tenant, or for the whole server when `tenant_id` is None."""
    if tenant_id is None:
        return generate_latest(REGISTRY)
    return generate_latest(_TenantView(tenant_id))
