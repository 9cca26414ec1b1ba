"""The report of a run: the raw JSON, a markdown page with the table, and a PNG chart.

Everything here is computed from the JSON document the runner built (`render(doc)`), so a
report can be drawn again from a saved run: `python -m bench.harness.report latest.json`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.systems.base import ROOT

REFERENCE = "jobyard-postgres"  # the ratios are each system's figure over this one's
THROUGHPUT_RATIO_TARGET = 1.0  # Jobyard on PostgreSQL over each peer, at least
P99_TARGET_MS = 25.0  # idle enqueue-to-start p99 on PostgreSQL, under
FOLLOW_COST_TARGET = 0.25  # throughput lost to following, at most


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    measured: str
    met: bool | None  # None: not measured in this run
    gap: str  # by how much it was missed (empty when met)


def _fig(doc: dict[str, Any], system: str, workload: str, field: str) -> float | None:
    value = doc.get("summary", {}).get(system, {}).get(workload, {}).get(field)
    return float(value) if isinstance(value, int | float) else None


def _n(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _labels(doc: dict[str, Any]) -> dict[str, str]:
    return {s["name"]: s["label"] for s in doc["meta"]["systems"]}


def targets(doc: dict[str, Any]) -> list[Target]:
    found: list[Target] = []
    labels = _labels(doc)
    ours = _fig(doc, REFERENCE, "throughput", "jobs_per_s")
    for name, label in labels.items():
        if name.startswith("jobyard"):
            continue
        theirs = _fig(doc, name, "throughput", "jobs_per_s")
        title = f"Jobyard (PostgreSQL) throughput ≥ {label}"
        if ours is None or theirs is None:
            found.append(Target(title, "not measured", None, ""))
            continue
        ratio = ours / theirs
        gap = (
            ""
            if ratio >= THROUGHPUT_RATIO_TARGET
            else (f"missed by {1 - ratio:.0%}: Jobyard needs {theirs / ours:.2f}x its throughput")
        )
        found.append(Target(title, f"{ratio:.2f}x", ratio >= THROUGHPUT_RATIO_TARGET, gap))
    p99 = _fig(doc, REFERENCE, "latency", "latency_p99_ms")
    title = f"idle enqueue-to-start p99 < {P99_TARGET_MS:g} ms (Jobyard, PostgreSQL)"
    if p99 is None:
        found.append(Target(title, "not measured", None, ""))
    else:
        met = p99 < P99_TARGET_MS
        over = p99 - P99_TARGET_MS
        gap = "" if met else f"missed by {over:,.1f} ms ({p99 / P99_TARGET_MS:,.1f}x)"
        found.append(Target(title, f"{p99:,.1f} ms", met, gap))
    for name in ("jobyard-postgres", "jobyard-sqlite"):
        if name not in labels:
            continue
        plain = _fig(doc, name, "throughput", "jobs_per_s")
        followed = _fig(doc, name, "follow", "jobs_per_s")
        share = f"{FOLLOW_COST_TARGET:.0%}"
        title = f"following costs ≤ {share} of plain throughput ({labels[name]})"
        if plain is None or followed is None:
            found.append(Target(title, "not measured", None, ""))
            continue
        cost = 1 - followed / plain
        met = cost <= FOLLOW_COST_TARGET
        # to a tenth: a whole number rounds a miss of 0.4 points to "missed by 0"
        gap = "" if met else f"missed by {(cost - FOLLOW_COST_TARGET) * 100:.1f} percentage points"
        found.append(Target(title, f"{cost:.1%} lost", met, gap))
    return found


def table(doc: dict[str, Any]) -> str:
    """System x workload: the medians, each peer's throughput over Jobyard's on PostgreSQL."""
    ours = _fig(doc, REFERENCE, "throughput", "jobs_per_s")
    lines = [
        "| system | throughput, jobs/s | throughput ÷ Jobyard (PostgreSQL) | enqueue→start p50, ms"
        " | p99, ms | CPU s / 1,000 jobs | with broker/DB | server peak, MB | workers peak, MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, label in _labels(doc).items():
        tput = _fig(doc, name, "throughput", "jobs_per_s")
        ratio = f"{tput / ours:.2f}x" if tput is not None and ours else "-"
        server = _fig(doc, name, "throughput", "peak_rss_mb.server")
        lines.append(
            f"| {label} | {_n(tput)} | {ratio}"
            f" | {_n(_fig(doc, name, 'latency', 'latency_p50_ms'), 1)}"
            f" | {_n(_fig(doc, name, 'latency', 'latency_p99_ms'), 1)}"
            f" | {_n(_fig(doc, name, 'throughput', 'cpu_s_per_1k'), 2)}"
            f" | {_n(_fig(doc, name, 'throughput', 'cpu_s_per_1k_with_broker'), 2)}"
            f" | {_n(server) if server is not None else 'n/a'}"
            f" | {_n(_fig(doc, name, 'throughput', 'peak_rss_mb.workers'))} |"
        )
    return "\n".join(lines)


def _follow_table(doc: dict[str, Any]) -> str:
    lines = [
        "| system | plain, jobs/s | followed, jobs/s | followed ÷ plain"
        " | CPU s / 1,000 jobs, plain | followed |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, label in _labels(doc).items():
        followed = _fig(doc, name, "follow", "jobs_per_s")
        if followed is None:
            continue
        plain = _fig(doc, name, "throughput", "jobs_per_s")
        ratio = f"{followed / plain:.2f}" if plain else "-"
        lines.append(
            f"| {label} | {_n(plain)} | {_n(followed)} | {ratio}"
            f" | {_n(_fig(doc, name, 'throughput', 'cpu_s_per_1k'), 2)}"
            f" | {_n(_fig(doc, name, 'follow', 'cpu_s_per_1k'), 2)} |"
        )
    return "\n".join(lines) if len(lines) > 2 else ""


def _latency_table(doc: dict[str, Any]) -> str:
    """Where the enqueue-to-start time goes: the enqueue call itself, and the rest."""
    lines = [
        "| system | enqueue→start p50, ms | p99 | max | the enqueue call p50, ms | p99 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, label in _labels(doc).items():
        cells = [
            _n(_fig(doc, name, "latency", field), 1)
            for field in (
                "latency_p50_ms",
                "latency_p99_ms",
                "latency_max_ms",
                "enqueue_call_p50_ms",
                "enqueue_call_p99_ms",
            )
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _ceilings(doc: dict[str, Any]) -> list[str]:
    c = doc.get("ceilings") or {}
    if not c:
        return ["Not measured in this run (`--no-ceilings`)."]
    if "error" in c:
        return [f"Could not be measured: {c['error']}"]
    pg, http = c.get("postgres", {}), c.get("http", {})
    ours = _fig(doc, REFERENCE, "throughput", "jobs_per_s")
    rows = [
        "| ceiling | per second | Jobyard (PostgreSQL) jobs/s as a share |",
        "|---|---:|---:|",
    ]
    for key, title in (
        ("commits_per_s_1_clients", "PostgreSQL commits, pgbench `simple-update`, 1 client"),
        ("commits_per_s_8_clients", "PostgreSQL commits, pgbench `simple-update`, 8 clients"),
    ):
        value = pg.get(key)
        share = f"{ours / value:.0%}" if ours and value else "-"
        rows.append(f"| {title} | {_n(value)} | {share} |")
    value = http.get("empty_requests_per_s")
    share = f"{ours / value:.0%}" if ours and value else "-"
    rows.append(
        f"| requests to an empty FastAPI endpoint (uvicorn, as served) | {_n(value)} | {share} |"
    )
    value = http.get("jobyard_healthz_requests_per_s")
    rows.append(
        "| for scale: requests to Jobyard's `GET /healthz` on SQLite (its whole stack and one"
        f" database round trip; not a ceiling) | {_n(value)} | |"
    )
    notes = [
        "",
        f"HTTP load: {http.get('load_generator', '?')}, {http.get('connections', '?')}"
        f" keep-alive connections, {http.get('seconds', '?')} s; pgbench runs"
        f" {pg.get('seconds', '?')} s per client count, on a scratch database.",
    ]
    return rows + notes


def _settings(doc: dict[str, Any]) -> list[str]:
    out = []
    for s in doc["meta"]["systems"]:
        versions = ", ".join(f"{k} {v}" for k, v in s["versions"].items())
        out.append(f"- **{s['label']}** ({versions})")
        out.extend(f"  - {line}" for line in s["settings"])
    return out


def _machine(doc: dict[str, Any]) -> list[str]:
    m, services = doc["meta"]["machine"], doc["meta"]["services"]
    return [
        f"- CPU: {m['cpu']}, {m['cores']} cores; memory: {m['memory_gib']} GiB",
        f"- OS: {m['os']} (kernel {m['kernel']}); Python {m['python']}",
        f"- PostgreSQL {services.get('postgresql', '?')}"
        f" (fsync {services.get('pg_fsync', '?')},"
        f" synchronous_commit {services.get('pg_synchronous_commit', '?')});"
        f" Redis {services.get('redis', '?')} ({services.get('redis_persistence', '?')})",
        "- Every process of a run shares these cores: producer, server, workers, database.",
    ]


def _short(doc: dict[str, Any]) -> str:
    """The medians taken over fewer repetitions than planned, because some failed."""
    labels = _labels(doc)
    short = [
        f"{labels.get(system, system)} {workload} ({entry['runs']} of"
        f" {entry['runs'] + entry['failed']})"
        for system, by_workload in doc.get("summary", {}).items()
        for workload, entry in by_workload.items()
        if entry.get("failed")
    ]
    return (
        "Medians over fewer repetitions, the others failed: " + "; ".join(short) + "."
        if short
        else ""
    )


def _source(doc: dict[str, Any]) -> str:
    source = doc["meta"].get("source", {})
    start, end = source.get("start"), source.get("end")
    if not start:
        return ""
    line = f"Jobyard as of commit {start['commit']}"
    if start["changed_files"]:
        line += f" with {start['changed_files']} source files changed beside it"
    if end and end["digest"] != start["digest"]:
        line += (
            ". **Jobyard's source changed while this run went on: its figures mix versions;"
            " run again on a quiet tree.**"
        )
    return line + "."


def _failures(doc: dict[str, Any]) -> list[str]:
    failed = [r for r in doc["runs"] if not r["ok"]]
    return [
        f"- {r['system']} {r['workload']} #{r['repetition']}: {r['error'].splitlines()[0]}"
        for r in failed
    ]


METHOD = """\
- **Same work for every system.** One producer process enqueues with the system's own client;
  each job carries a key and the producer's clock at enqueue. Every handler notes its clock on
  entry and exit and appends one line per job to a file of its process. A run counts only when
  every key appears exactly once and the system itself agrees (Jobyard's job list: all
  `succeeded` on their first execution; the peers: queue empty, or job rows `succeeded`).
- **Throughput**: {jobs:,} jobs in batches of {batch:,}, to {workers} worker processes already
  waiting; jobs/s from the first enqueue to the last handler's end.
- **Latency**: {latency_jobs:,} jobs, one per enqueue call, at {rate:g}/s on a fixed schedule
  (each call starts on time even when earlier ones have not returned) to the same workers,
  idle; enqueue-to-start is the handler's start minus the producer's clock before the call.
  Before them, {latency_warmup:,} jobs on the same schedule warm every system up (connections
  opened, statements prepared) and are not measured: the figures are those of a system
  running, not of one starting.
  Where the enqueue call itself takes longer than 1/{rate:g} s, calls queue up and so does the
  latency: the detail table shows the call's own time.
- **Cost** (from the throughput runs): CPU seconds (user + system) of the producer, the server
  (Jobyard's `jobyard serve`) and the workers with their child processes, from the moment the
  producer starts to the last job's end, per 1,000 jobs; "with broker/DB" adds the Redis server
  process, or the PostgreSQL backends connected to the run's database (not PostgreSQL's
  background writers, which other databases share). Peak memory is each process's peak
  resident set (VmHWM), the workers' summed; for the peers the server is Redis or PostgreSQL,
  shared, and not counted.
- **Following** (Jobyard): the throughput run again, with {follow_jobs:,} jobs, each handler
  opening two steps, reporting progress twice and writing 10 log lines.
- Each run gets a fresh database (PostgreSQL: a new database, dropped after; SQLite: a new
  file; Redis: the harness's own database number, flushed before and after) and fresh
  processes, and starts once the runs before it are on disk (a PostgreSQL `CHECKPOINT`, then
  `sync`), so that their writes are not written back during it. Repetitions go round-robin
  across systems, in the order above in odd ones and reversed in even ones, so that each
  system meets the machine's drift over the run from both sides; medians of {repeat} are
  reported.
- Figures in the JSON not shown here: every repetition, the enqueue time alone, each
  process group's CPU seconds, the producer's peak memory, and for Jobyard the span its own
  database stamped (first job created to last completed).
"""


def render(doc: dict[str, Any]) -> str:
    meta = doc["meta"]
    o = meta["options"]
    minutes = meta.get("duration_s", 0) / 60
    reps = (
        "the median of 1 repetition"
        if o["repeat"] == 1
        else f"medians of {o['repeat']} repetitions"
    )
    parts = [
        "# Jobyard beside its peers",
        "",
        f"Measured {meta['started_at']} on one machine, all systems in the same run"
        f" ({minutes:.0f} minutes); {reps}."
        " Produced by `scripts/bench`; raw figures of every repetition in the JSON beside this.",
        "",
        table(doc),
        "",
        *(line for line in (_short(doc), _source(doc)) if line),
        "",
        "## Targets",
        "",
        "| target | measured | |",
        "|---|---:|---|",
    ]
    for t in targets(doc):
        verdict = "not measured" if t.met is None else ("met" if t.met else t.gap)
        parts.append(f"| {t.name} | {t.measured} | {verdict} |")
    parts += ["", "## Latency, in detail", "", _latency_table(doc)]
    follow = _follow_table(doc)
    if follow:
        parts += ["", "## The price of following a job", "", follow]
    parts += ["", "## Ceilings on this machine", "", *_ceilings(doc)]
    parts += ["", "## How each system ran", "", *_settings(doc)]
    parts += ["", "## Machine", "", *_machine(doc)]
    parts += ["", "## Method", "", METHOD.format(**{"latency_warmup": 0, **o}).rstrip()]
    failures = _failures(doc)
    if failures:
        parts += ["", "## Failed runs (left out of the medians)", "", *failures]
    return "\n".join(parts) + "\n"


def write(doc: dict[str, Any], out: Path, name: str, peers_python: Path) -> list[Path]:
    """`name`.json, `name`.md and, drawn in the peers' environment (matplotlib), `name`.png."""
    paths = [out / f"{name}.json", out / f"{name}.md"]
    paths[0].write_text(json.dumps(doc, indent=2) + "\n")
    paths[1].write_text(render(doc))
    png = out / f"{name}.png"
    drawn = subprocess.run(
        [str(peers_python), "-m", "bench.harness.chart", str(paths[0]), str(png)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        check=False,
    )
    if drawn.returncode == 0:
        paths.append(png)
    else:
        print(f"the chart was not drawn: {drawn.stderr.strip()[-1000:]}", file=sys.stderr)
    return paths


def main(argv: list[str]) -> int:
    """`python -m bench.harness.report RUN.json`: draw RUN.md and RUN.png again from the JSON
    (after a change to the report), and print the page."""
    if len(argv) != 1:
        print(main.__doc__, file=sys.stderr)
        return 2
    source = Path(argv[0])
    peers_python = ROOT / "bench" / ".peers-venv" / "bin" / "python"
    write(json.loads(source.read_text()), source.parent, source.stem, peers_python)
    print(render(json.loads(source.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
