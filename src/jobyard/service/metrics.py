"""Prometheus metrics, counted where the use cases happen so every front end is measured alike."""

from __future__ import annotations

from prometheus_client import Counter

JOBS_CREATED = Counter("jobyard_jobs_created_total", "Jobs created.", ["queue"])
EXECUTIONS_CLAIMED = Counter("jobyard_executions_claimed_total", "Executions claimed.", ["queue"])
EXECUTION_UPDATES = Counter(
    "jobyard_execution_updates_total",
    "Worker updates, by the status they report and whether they were applied.",
    ["status", "applied"],
)
SWEPT = Counter(
    "jobyard_sweeper_events_total",
    "Time-based transitions made by the sweeper.",
    ["event"],
)
