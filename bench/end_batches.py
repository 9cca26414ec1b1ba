"""A batch of ends, store-level: what ending jobs costs the store's hot path, by what they carry.

No HTTP and no workers: jobs are made and claimed through the store, then ended in batches
(`Store.execution_update_many`, as the worker protocol's batch route calls it), each batch
timed. What an end carries is the shape: `plain` (the status alone), or any of `steps`
(two reports on a job that declared none), `progress` and `lines` (10 of ~45 characters)
joined with `+`; `followed` is all three, as the benchmark's followed jobs send. Printed a job:
the time on the clock, this process's CPU (the server's part) and, on PostgreSQL, the CPU of
its server processes over the same span (the machine should be otherwise idle).

    uv run python -m bench.end_batches                                  # both backends
    uv run python -m bench.end_batches --backend postgres --shapes plain,followed --rounds 40

The first rounds warm up and are not counted (`--warmup`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.lifecycle import PG_ADMIN_URL, postgres_database
from jobyard.domain.entities import (
    ClaimRequest,
    ExecutionUpdate,
    NewJob,
    NewLogEntry,
    WorkerIdentity,
)
from jobyard.domain.states import ExecutionStatus
from jobyard.store import Store, open_store

PARTS = ("steps", "progress", "lines")
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Cost:
    """A job's share of its batch: on the clock, this process's CPU, the database's CPU."""

    wall_us: float
    cpu_us: float
    db_us: float | None


def _parts(shape: str) -> set[str]:
    parts = (
        set(PARTS) if shape == "followed" else set() if shape == "plain" else set(shape.split("+"))
    )
    unknown = parts - set(PARTS)
    if unknown:
        raise SystemExit(f"unknown parts {sorted(unknown)}: plain, followed, or of {PARTS}")
    return parts


def _end(ex_job: str, number: int, version: int, parts: set[str]) -> ExecutionUpdate:
    u = ExecutionUpdate(
        ex_job, number, ExecutionStatus.SUCCEEDED, expected_version=version, worker_id="w"
    )
    if "steps" in parts:
        u.steps = [
            {"name": "read", "status": "succeeded"},
            {"name": "write", "status": "succeeded"},
        ]
    if "progress" in parts:
        u.progress = {"current": 10, "total": 10, "message": "done"}
    if "lines" in parts:
        now = datetime.now(UTC)
        u.logs = [
            NewLogEntry("stdout", f"line {k + 1} of 10: nothing to report, all is well", now)
            for k in range(10)
        ]
    return u


def postgres_cpu_s() -> float:
    """The CPU seconds of every PostgreSQL server process of this machine so far, to the
    nanosecond where the kernel keeps scheduler statistics (clock ticks, 10 ms, otherwise)."""
    found = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True, check=False)
    total = 0.0
    for pid in found.stdout.split():
        try:
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
            continue
        except (OSError, ValueError, IndexError):
            pass
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


async def _measure(store: Store, shape: str, batch: int, rounds: int, warmup: int) -> Cost:
    parts = _parts(shape)
    tenant = (await store.tenant_create(f"bench-{shape}-{time.monotonic_ns()}")).id
    wall = cpu = db = 0.0
    on_postgres = not store.__class__.__name__.lower().startswith("sqlite")
    for r in range(rounds + warmup):
        await store.job_insert_many(
            tenant, None, [(NewJob(type="bench", queue=shape), None) for _ in range(batch)]
        )
        claimed = await store.execution_claim(
            tenant,
            ClaimRequest(queues=[shape], max=batch, lease_s=600, worker=WorkerIdentity(id="w")),
        )
        ends = [
            _end(c.execution.job_id, c.execution.execution_number, c.execution.version, parts)
            for c in claimed
        ]
        db0 = postgres_cpu_s() if on_postgres else 0.0
        t0, c0 = time.perf_counter(), time.process_time()
        done = await store.execution_update_many(tenant, ends)
        t1, c1 = time.perf_counter(), time.process_time()
        db1 = postgres_cpu_s() if on_postgres else 0.0
        if not all(o.applied for o in done) or len(done) != batch:
            raise RuntimeError(f"{shape}: not every end applied")
        if r >= warmup:
            wall, cpu, db = wall + t1 - t0, cpu + c1 - c0, db + db1 - db0
    n = rounds * batch / 1e6
    return Cost(wall / n, cpu / n, db / n if on_postgres else None)


async def _run_backend(url: str, shapes: list[str], batch: int, rounds: int, warmup: int) -> None:
    store = open_store(url)
    try:
        await store.upgrade()
        for shape in shapes:
            cost = await _measure(store, shape, batch, rounds, warmup)
            db = "" if cost.db_us is None else f", PostgreSQL {cost.db_us:6.1f}"
            print(
                f"  {shape:<22} {cost.wall_us:6.1f} µs a job on the clock, "
                f"this process {cost.cpu_us:6.1f}{db}"
            )
    finally:
        await store.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.end_batches", description=__doc__)
    p.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--shapes", default="plain,steps,lines,followed")
    p.add_argument("--batch", type=int, default=250, help="ends a batch (250)")
    p.add_argument("--rounds", type=int, default=20, help="batches counted a shape (20)")
    p.add_argument("--warmup", type=int, default=4, help="batches not counted first (4)")
    p.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    a = p.parse_args(argv)
    shapes = [s for s in a.shapes.split(",") if s]
    for shape in shapes:
        _parts(shape)
    if a.backend in ("sqlite", "both"):
        print(f"SQLite, batches of {a.batch}:")
        with tempfile.TemporaryDirectory() as scratch:
            url = f"sqlite:///{Path(scratch) / 'bench.db'}"
            asyncio.run(_run_backend(url, shapes, a.batch, a.rounds, a.warmup))
    if a.backend in ("postgres", "both"):
        print(f"PostgreSQL, batches of {a.batch}:")
        with postgres_database(a.pg_admin_url) as url:
            asyncio.run(_run_backend(url, shapes, a.batch, a.rounds, a.warmup))
    return 0


if __name__ == "__main__":
    sys.exit(main())
