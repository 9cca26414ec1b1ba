"""One measured run: a system's session, its producer, and the figures, the same way for all.

1. The system's session starts its store, server and workers, which wait for work.
2. The producer connects and says `ready`; the CPU clocks start; the producer is told `go`.
3. The harness watches the handlers' records until every job has one (or time runs out, or a
   process died: then the run failed, and it says why).
4. The CPU clocks stop; peak memory is read; the records are checked (each job exactly once)
   and the system is asked whether it agrees, off the clock.

Workloads:
- throughput: `jobs` jobs in batches (`batch`), drained by the waiting workers; jobs/s from the
  first enqueue to the last handler's end. The cost figures come from these runs.
- latency: `latency_jobs` jobs one at a time at `rate` a second, to idle workers;
  enqueue-to-start p50 and p99.
- follow: throughput again with `follow_jobs` jobs, each doing steps, progress and 10 log
  lines (Jobyard only).
"""

from __future__ import annotations

import json
import select
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import records
from bench.harness.processes import CpuClock, Group, peak_rss_of
from bench.systems.base import ROOT, Running, Setup, System

WORKLOADS = ("throughput", "latency", "follow")
STALL_S = 60.0
MAX_RUN_S = 1800.0


@dataclass(frozen=True, slots=True)
class Sizes:
    jobs: int  # throughput
    follow_jobs: int
    batch: int
    latency_jobs: int
    rate: float  # latency: jobs a second
    latency_warmup: int = 0  # latency: jobs sent first at the same rate, and not measured


def kind_of(workload: str) -> str:
    return "follow" if workload == "follow" else "plain"


def job_count(workload: str, sizes: Sizes) -> int:
    return {"latency": sizes.latency_jobs, "follow": sizes.follow_jobs}.get(workload, sizes.jobs)


def producer_args(workload: str, sizes: Sizes) -> list[str]:
    n = str(job_count(workload, sizes))
    if workload == "latency":
        warmup = ["--warmup", str(sizes.latency_warmup)]
        return ["--mode", "steady", "--jobs", n, "--rate", f"{sizes.rate:g}", *warmup]
    return [
        "--mode",
        "batch",
        "--jobs",
        n,
        "--batch",
        str(sizes.batch),
        "--kind",
        kind_of(workload),
    ]


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least `q` of all values at or below it."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 1))  # ceil(n * q), at least 1
    return ordered[int(rank) - 1]


def _read_line(proc: subprocess.Popen[str], timeout_s: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
    if not ready:
        raise RuntimeError(f"the producer said nothing in {timeout_s:.0f} s")
    return proc.stdout.readline()


def _start_producer(running: Running, args: list[str], log: Path) -> subprocess.Popen[str]:
    with log.open("w") as err:
        proc = subprocess.Popen(
            [*running.producer, *args],
            cwd=ROOT,
            env=running.producer_env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    while (line := _read_line(proc, 60)).strip() != "ready":
        if not line:
            proc.wait(5)
            raise RuntimeError(f"the producer exited {proc.returncode}:\n{log.read_text()[-3000:]}")
    return proc


def _wait_for_records(
    running: Running, producer: subprocess.Popen[str], tally: records.Tally, n: int
) -> None:
    """Until all `n` jobs have run. The run fails when a process dies, when no job ends for
    STALL_S after the producer is done, or after MAX_RUN_S in all."""
    start = last_change = time.monotonic()
    seen = 0
    while (done := tally.count()) < n:
        now = time.monotonic()
        if done != seen:
            seen, last_change = done, now
        code = producer.poll()
        if code not in (None, 0):
            raise RuntimeError(f"the producer exited {code}")
        reason = running.alive()
        if reason:
            raise RuntimeError(reason)
        if code == 0 and now - last_change > STALL_S:
            raise RuntimeError(f"{done} of {n} jobs ran, then none for {STALL_S:.0f} s")
        if now - start > MAX_RUN_S:
            raise RuntimeError(f"only {done} of {n} jobs ran in {MAX_RUN_S:.0f} s")
        time.sleep(0.05)


def measure(running: Running, workload: str, sizes: Sizes, scratch: Path) -> dict[str, Any]:
    """Drive one run in an open session; answers its figures (raises when it failed)."""
    n = job_count(workload, sizes)
    warmup = sizes.latency_warmup if workload == "latency" else 0
    log = scratch / "producer.log"
    producer = _start_producer(running, producer_args(workload, sizes), log)
    groups: dict[str, Group] = {"workers": running.workers}
    if running.server is not None:
        groups["server"] = running.server
    if running.broker is not None:
        groups["broker"] = running.broker
    clock = CpuClock(groups)
    tally = records.Tally(scratch / "records")
    try:
        clock.start()
        assert producer.stdin is not None
        producer.stdin.write("go\n")
        producer.stdin.flush()
        _wait_for_records(running, producer, tally, warmup + n)
        cpu = clock.stop()
        peak = {name: peak_rss_of(g) for name, g in groups.items() if name != "broker"}
        out, _ = producer.communicate(timeout=60)
    finally:
        if producer.poll() is None:
            producer.kill()
            producer.wait(5)
    if producer.returncode != 0:
        raise RuntimeError(f"the producer exited {producer.returncode}:\n{log.read_text()[-3000:]}")
    made = json.loads(out.strip().splitlines()[-1])
    got = records.read(scratch / "records", warmup + n)
    if not got.complete:
        raise RuntimeError(got.problem())
    disagreement = running.verify(warmup + n)
    latencies = got.latencies_from(warmup)  # the warm-up's own are not measured
    if disagreement:
        raise RuntimeError(f"the system disagrees: {disagreement}")
    span = got.last_finished - made["first_enqueue"]
    cpu_app = made["cpu_s"] + cpu["workers"] + cpu.get("server", 0.0)
    figures: dict[str, Any] = {
        "jobs": n,
        "seconds": round(span, 3),
        "jobs_per_s": round(n / span, 1),
        "enqueue_s": round(made["last_enqueue"] - made["first_enqueue"], 3),
        "enqueue_call_p50_ms": round(made["call_p50_s"] * 1000, 2),
        "enqueue_call_p99_ms": round(made["call_p99_s"] * 1000, 2),
        "latency_p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "latency_p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "latency_max_ms": round(max(latencies) * 1000, 2),
        "cpu_s": {
            "producer": round(made["cpu_s"], 3),
            **{k: round(v, 3) for k, v in cpu.items()},
        },
        "cpu_s_per_1k": round(cpu_app / n * 1000, 3),
        "cpu_s_per_1k_with_broker": round((cpu_app + cpu.get("broker", 0.0)) / n * 1000, 3),
        "peak_rss_mb": {
            "producer": round(made["peak_rss_mb"], 1),
            **{k: round(v, 1) for k, v in peak.items()},
        },
        "worker_processes_used": got.processes,
    }
    figures.update({k: round(v, 3) for k, v in running.extra.items()})
    return figures


def run_once(
    system: System, setup: Setup, workload: str, sizes: Sizes, scratch: Path
) -> dict[str, Any]:
    with system.session(setup, kind_of(workload), scratch) as running:
        return measure(running, workload, sizes, scratch)
