"""The producer every system runs: the same jobs, at the same pace, stamped by the same clock.

A producer is one process around a `Sink`, the few lines that enqueue with one system's own
client. It connects first, prints `ready` and waits for a line on stdin, so that the harness
starts its CPU clock as the first job goes out. Then:

- `--mode batch`: `--jobs` jobs in batches of `--batch`, one batch after another, as fast as
  the system takes them;
- `--mode steady`: `--jobs` jobs one per call, `--rate` a second on a fixed schedule: each call
  starts on time even when earlier ones have not returned yet (a slow enqueue must not slow
  the rate, or the latency would be measured at a lighter load than asked).

Job `k` carries `k` and the producer's `time.time()` just before the call that enqueues it.
The last line on stdout is JSON: the first and last enqueue times, how long the enqueue calls
took (p50, p99), and this process's CPU seconds (from `go` on) and peak RSS.

Standard library only: the peers' processes import it too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

KINDS = ("plain", "follow")  # what the handler does: nothing, or steps, progress and logs


@dataclass(frozen=True, slots=True)
class Plan:
    mode: str
    jobs: int
    batch: int
    rate: float
    kind: str
    warmup: int = 0  # steady: jobs sent first, on the same schedule, whose calls are not counted


class Sink(Protocol):
    async def enqueue_many(self, jobs: list[tuple[int, float]]) -> None:
        """Enqueue one batch of (key, enqueued at) in as few calls as the system allows."""

    async def enqueue_one(self, key: int, at: float) -> None: ...

    async def close(self) -> None: ...


Connect = Callable[[Plan], Awaitable[Sink]]


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _produce(plan: Plan, sink: Sink) -> tuple[float, float, list[float]]:
    """Enqueue the plan; answers the first and last enqueue times and how long each call took."""
    calls: list[float] = []
    first = time.time()
    if plan.mode == "batch":
        for start in range(0, plan.jobs, plan.batch):
            at = time.time()
            await sink.enqueue_many(
                [(k, at) for k in range(start, min(start + plan.batch, plan.jobs))]
            )
            calls.append(time.time() - at)
    else:  # each job leaves on its schedule, whether or not the calls before it have returned

        async def one(k: int) -> None:
            at = time.time()
            await sink.enqueue_one(k, at)
            if k >= plan.warmup:
                calls.append(time.time() - at)

        t0 = time.monotonic()
        sent: list[asyncio.Task[None]] = []
        for k in range(plan.warmup + plan.jobs):
            delay = t0 + k / plan.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            sent.append(asyncio.create_task(one(k)))
        await asyncio.gather(*sent)
    return first, time.time(), calls


async def _run(plan: Plan, connect: Connect) -> dict[str, float]:
    sink = await connect(plan)
    try:
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            raise SystemExit("producer: told to stop before it began")
        cpu0 = _cpu_s()
        first, last, calls = await _produce(plan, sink)
        cpu = _cpu_s() - cpu0
    finally:
        await sink.close()
    calls.sort()
    return {
        "first_enqueue": first,
        "last_enqueue": last,
        "cpu_s": cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "call_p50_s": calls[len(calls) // 2],
        "call_p99_s": calls[min(len(calls) - 1, int(len(calls) * 0.99))],
    }


def parse(argv: list[str] | None = None) -> Plan:
    p = argparse.ArgumentParser(description="Enqueue the benchmark's jobs into one system.")
    p.add_argument("--mode", choices=["batch", "steady"], required=True)
    p.add_argument("--jobs", type=int, required=True)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--rate", type=float, default=100.0)
    p.add_argument("--kind", choices=KINDS, default="plain")
    p.add_argument("--warmup", type=int, default=0, help="steady: jobs first, not measured")
    a = p.parse_args(argv)
    return Plan(a.mode, a.jobs, a.batch, a.rate, a.kind, a.warmup)


def main(connect: Connect, argv: list[str] | None = None) -> int:
    figures = asyncio.run(_run(parse(argv), connect))
    print(json.dumps(figures), flush=True)
    return 0
