"""The chart of a run, drawn from its JSON with matplotlib (which lives in the peers'
environment, so the report runs this as a separate process):

    bench/.peers-venv/bin/python -m bench.harness.chart latest.json latest.png

Four panels of medians, one bar per system: throughput (with Jobyard's followed runs beside its
plain ones), enqueue-to-start p50 and p99, CPU seconds per 1,000 jobs (with and without the
broker or database), and peak memory of the workers and of Jobyard's server.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib  # type: ignore[import-not-found, unused-ignore]

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]

JOBYARD = ("#2b6cb0", "#90cdf4")  # first series, second series
PEER = ("#718096", "#cbd5e0")


def _value(doc: dict[str, Any], system: str, workload: str, field: str) -> float:
    value = doc["summary"].get(system, {}).get(workload, {}).get(field)
    return float(value) if isinstance(value, int | float) else 0.0


def _bars(
    ax: Any, labels: list[str], series: list[tuple[str, list[float]]], ours: list[bool]
) -> None:
    """Grouped bars, Jobyard's in blue and the peers' in grey; a missing figure draws nothing."""
    width = 0.8 / len(series)
    for i, (name, values) in enumerate(series):
        xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(labels))]
        colors = [(JOBYARD if o else PEER)[min(i, 1)] for o in ours]
        bars = ax.bar(xs, values, width, label=name, color=colors, hatch="//" if i else None)
        fmt = "{:,.0f}" if max(values, default=0) >= 100 else "{:,.1f}"
        ax.bar_label(bars, [fmt.format(v) if v else "" for v in values], fontsize=7)
    ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right", fontsize=8)
    if len(series) > 1:
        ax.legend(fontsize=7)


def draw(doc: dict[str, Any], png: Path) -> None:
    systems = doc["meta"]["systems"]
    names = [s["name"] for s in systems]
    labels = [s["label"].replace(" (", "\n(") for s in systems]
    ours = [n.startswith("jobyard") for n in names]
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    (tput, lat), (cpu, mem) = axes

    plain = [_value(doc, n, "throughput", "jobs_per_s") for n in names]
    followed = [_value(doc, n, "follow", "jobs_per_s") for n in names]
    series = [("plain", plain)] + ([("followed (Jobyard)", followed)] if any(followed) else [])
    _bars(tput, labels, series, ours)
    tput.set_title("Throughput, jobs/s (higher is better)")

    _bars(
        lat,
        labels,
        [
            ("p50", [_value(doc, n, "latency", "latency_p50_ms") for n in names]),
            ("p99", [_value(doc, n, "latency", "latency_p99_ms") for n in names]),
        ],
        ours,
    )
    lat.set_yscale("log")  # a saturated system is thousands of times slower than the rest
    lat.set_title("Enqueue to start at 100 jobs/s, ms, log scale (lower is better)")

    _bars(
        cpu,
        labels,
        [
            (
                "producer, server, workers",
                [_value(doc, n, "throughput", "cpu_s_per_1k") for n in names],
            ),
            (
                "with broker / database",
                [_value(doc, n, "throughput", "cpu_s_per_1k_with_broker") for n in names],
            ),
        ],
        ours,
    )
    cpu.set_title("CPU seconds per 1,000 jobs (lower is better)")

    _bars(
        mem,
        labels,
        [
            ("workers", [_value(doc, n, "throughput", "peak_rss_mb.workers") for n in names]),
            (
                "server (Jobyard)",
                [_value(doc, n, "throughput", "peak_rss_mb.server") for n in names],
            ),
        ],
        ours,
    )
    mem.set_title("Peak memory, MB (lower is better)")

    when = doc["meta"]["started_at"]
    m = doc["meta"]["machine"]
    fig.suptitle(f"Jobyard beside its peers: {m['cores']} cores, {m['cpu']}, {when}", fontsize=11)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


if __name__ == "__main__":
    draw(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
