"""Steps of a job: declared at creation or reported as the worker goes, kept in order.

A report names a step and gives its new status (and a `result` or an `error`); the other steps
stay as they are. A step first reported in_progress gets its `started_at`; one that ends gets
its `completed_at`. A step not declared before is added at the end.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

STEP_STATUSES = ("pending", "in_progress", "succeeded", "failed", "skipped")
STEP_ENDED = frozenset({"succeeded", "failed", "skipped"})


def new_step(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "status": "pending",
        "started_at": None,
        "completed_at": None,
        "result": None,
        "error": None,
    }


def merge_steps(
    current: list[dict[str, Any]], reports: list[dict[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    """The steps after `reports` (each `{"name", "status", "result"?, "error"?}`)."""
    steps = [dict(s) for s in current]
    index = {s["name"]: i for i, s in enumerate(steps)}
    stamp = now.isoformat()
    for report in reports:
        name = report["name"]
        if name not in index:
            index[name] = len(steps)
            steps.append(new_step(name))
        step = steps[index[name]]
        status = report.get("status") or step.get("status") or "pending"
        if status in ("in_progress", *STEP_ENDED) and not step.get("started_at"):
            step["started_at"] = stamp
        if status in STEP_ENDED and not step.get("completed_at"):
            step["completed_at"] = stamp
        step["status"] = status
        for field in ("result", "error"):
            if report.get(field) is not None:
                step[field] = report[field]
    return steps
