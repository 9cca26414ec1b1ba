"""The whole run: ceilings first, then every repetition of every system and workload, then the
medians.

Repetitions go round-robin (all systems once, then all again), so that anything else the
machine is doing meanwhile weighs on every system alike rather than on the one that ran then.
A run that failed is kept with its reason and left out of the medians; its logs are copied to
`bench/results/scratch/` (not committed).
"""

from __future__ import annotations

import datetime as dt
import shutil
import statistics
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.harness import ceilings, machine
from bench.harness.settle import settle
from bench.harness.workloads import Sizes, kind_of, run_once
from bench.systems import postgres
from bench.systems.base import ROOT, Setup, System

SUMMARY_FIELDS = {
    "throughput": (
        "jobs_per_s",
        "cpu_s_per_1k",
        "cpu_s_per_1k_with_broker",
        "peak_rss_mb.server",
        "peak_rss_mb.workers",
        "peak_rss_mb.producer",
    ),
    "latency": (
        "latency_p50_ms",
        "latency_p99_ms",
        "latency_max_ms",
        "enqueue_call_p50_ms",
        "enqueue_call_p99_ms",
    ),
    "follow": ("jobs_per_s", "cpu_s_per_1k", "cpu_s_per_1k_with_broker"),
}


@dataclass(frozen=True, slots=True)
class Plan:
    systems: list[System]
    workloads: list[str]
    repeat: int
    sizes: Sizes
    setup: Setup
    ceilings: bool
    ceiling_s: float
    scratch_dir: Path
    services: dict[str, str]  # versions of the shared services besides PostgreSQL


def _get(run: dict[str, Any], path: str) -> float | None:
    value: Any = run
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return float(value) if isinstance(value, int | float) else None


def summarize(runs: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per system and workload: the median of each figure over the runs that succeeded."""
    summary: dict[str, dict[str, dict[str, Any]]] = {}
    for run in runs:
        summary.setdefault(run["system"], {}).setdefault(run["workload"], {"runs": 0, "failed": 0})
    for system, by_workload in summary.items():
        for workload, entry in by_workload.items():
            mine = [r for r in runs if r["system"] == system and r["workload"] == workload]
            good = [r for r in mine if r["ok"]]
            entry["runs"], entry["failed"] = len(good), len(mine) - len(good)
            for path in SUMMARY_FIELDS.get(workload, ()):
                values = [v for r in good if (v := _get(r, path)) is not None]
                if values:
                    entry[path] = round(statistics.median(values), 2)
    return summary


def _one(plan: Plan, system: System, workload: str, rep: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"system": system.name, "workload": workload, "repetition": rep}
    settle(plan.setup.pg_admin_url)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="jobyard-bench-") as tmp:
        try:
            entry.update(run_once(system, plan.setup, workload, plan.sizes, Path(tmp)))
            entry["ok"] = True
        except Exception as exc:  # a failed run is a result to report, not the end of the others
            entry["ok"] = False
            entry["error"] = f"{type(exc).__name__}: {exc}"
            keep = plan.scratch_dir / f"{system.name}-{workload}-{rep}"
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(tmp, keep, ignore=shutil.ignore_patterns("*.db*", "*.rec"))
            (keep / "traceback.txt").write_text(traceback.format_exc())
    entry["wall_s"] = round(time.monotonic() - started, 1)
    return entry


def run(plan: Plan, say: Callable[[str], None] = print) -> dict[str, Any]:
    began = time.monotonic()
    started_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    setup = plan.setup
    meta: dict[str, Any] = {
        "started_at": started_at.isoformat(),
        "machine": machine.describe(),
        "source": {"start": machine.source_state(ROOT)},
        "options": {
            "repeat": plan.repeat,
            "workloads": plan.workloads,
            **asdict(plan.sizes),
            **{k: v for k, v in asdict(setup).items() if k not in ("peers_python", "redis_pid")},
        },
        "services": {**postgres.server_facts(setup.pg_admin_url), **plan.services},
        "systems": [],
    }
    for system in plan.systems:
        meta["systems"].append(
            {
                "name": system.name,
                "label": system.label,
                "settings": system.settings(setup),
                "versions": system.versions(setup),
            }
        )
    doc: dict[str, Any] = {"meta": meta, "ceilings": {}, "runs": []}
    shutil.rmtree(plan.scratch_dir, ignore_errors=True)  # the logs of this run's failures only
    if plan.ceilings:
        say("ceilings: pgbench and the empty endpoint ...")
        try:
            doc["ceilings"] = ceilings.measure(setup.pg_admin_url, plan.ceiling_s)
        except Exception as exc:  # a missing ceiling is reported, the comparison still runs
            doc["ceilings"] = {"error": f"{type(exc).__name__}: {exc}"}
    for rep in range(1, plan.repeat + 1):
        for system in rounds_order(plan.systems, rep):
            for workload in plan.workloads:
                if kind_of(workload) not in system.kinds:
                    continue
                entry = _one(plan, system, workload, rep)
                doc["runs"].append(entry)
                say(_line(entry))
    doc["summary"] = summarize(doc["runs"])
    meta["source"]["end"] = machine.source_state(ROOT)
    meta["duration_s"] = round(time.monotonic() - began, 1)
    return doc


def rounds_order(systems: Sequence[System], rep: int) -> list[System]:
    """The order of repetition `rep` (from 1): as given in odd ones, reversed in even ones.
    A machine's speed drifts over a run of twenty minutes, by a third or more here; in one
    order throughout, the system run last in each repetition would meet the drift from one
    side only, and two systems minutes apart would be compared at different speeds each time.
    Reversed every other time, each meets it from both sides."""
    return list(systems) if rep % 2 else list(reversed(systems))


def _line(entry: dict[str, Any]) -> str:
    head = f"{entry['system']:<16} {entry['workload']:<10} #{entry['repetition']}"
    if not entry["ok"]:
        return f"{head}  FAILED: {entry['error'].splitlines()[0]}"
    if entry["workload"] == "latency":
        figure = f"p50 {entry['latency_p50_ms']:.1f} ms, p99 {entry['latency_p99_ms']:.1f} ms"
    else:
        figure = f"{entry['jobs_per_s']:,.0f} jobs/s, {entry['cpu_s_per_1k']:.2f} CPU s/1k"
    return f"{head}  {figure}  ({entry['wall_s']:.0f} s)"
