"""What PostgreSQL spends on each phase of a plain job's life, store-level: create, claim, end.

No HTTP and no workers: each round creates a batch of jobs (`Store.job_insert_many`, as
`POST /v1/jobs/batch` does), then claims them and ends them, succeeded, in batches
(`execution_claim`, `execution_update_many`, as a worker's claims and batched ends do). Printed
a job: the CPU of every PostgreSQL server process of the machine over each phase (the machine
should be otherwise idle). `--deep` creates every round's jobs first and then drains them, so
that claims walk a queue thousands deep. `--keyed` gives each job an idempotency key, as the
SDK does for every job it creates.

`--sql` runs statements on the fresh database after its migrations, before the first round:
what a change to the schema would save can be measured before it is written as a migration
(say, `--sql "DROP INDEX ix_jobs_tenant_type"` for what that index costs).

    uv run python -m bench.job_phases
    uv run python -m bench.job_phases --rounds 40 --deep
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from dataclasses import dataclass

import asyncpg

from bench.end_batches import postgres_cpu_s
from bench.lifecycle import PG_ADMIN_URL, postgres_database
from jobyard.domain.entities import ClaimRequest, ExecutionUpdate, NewJob, WorkerIdentity
from jobyard.domain.states import ExecutionStatus
from jobyard.store import Store, open_store

QUEUE = "phases"
_WORKER = WorkerIdentity(id="bench-phases")


@dataclass(slots=True)
class Phases:
    """PostgreSQL's CPU seconds so far in each phase, and the jobs they were spent on."""

    create: float = 0.0
    claim: float = 0.0
    end: float = 0.0
    jobs: int = 0

    def per_job_us(self) -> dict[str, float]:
        n = max(self.jobs, 1) / 1e6
        return {"create": self.create / n, "claim": self.claim / n, "end": self.end / n}


async def _create(store: Store, tenant: str, batch: int, keyed: bool) -> float:
    jobs: list[tuple[NewJob, str | None]] = [
        (NewJob(type="bench", queue=QUEUE, idempotency_key=str(uuid.uuid4())), "h")
        if keyed
        else (NewJob(type="bench", queue=QUEUE), None)
        for _ in range(batch)
    ]
    before = postgres_cpu_s()
    await store.job_insert_many(tenant, None, jobs)
    return postgres_cpu_s() - before


async def _drain(store: Store, tenant: str, claim: int, jobs: int, into: Phases) -> None:
    """Claim and end `jobs` jobs, `claim` at a time, adding each phase's CPU to `into`."""
    left = jobs
    while left:
        t0 = postgres_cpu_s()
        claimed = await store.execution_claim(
            tenant,
            ClaimRequest(queues=[QUEUE], max=min(claim, left), lease_s=600, worker=_WORKER),
        )
        t1 = postgres_cpu_s()
        ends = [
            ExecutionUpdate(
                c.execution.job_id,
                c.execution.execution_number,
                ExecutionStatus.SUCCEEDED,
                expected_version=c.execution.version,
                worker_id=_WORKER.id,
            )
            for c in claimed
        ]
        done = await store.execution_update_many(tenant, ends)
        t2 = postgres_cpu_s()
        if not claimed or not all(o.applied for o in done):
            raise RuntimeError("a claim came back short, or an end did not apply")
        into.claim += t1 - t0
        into.end += t2 - t1
        left -= len(claimed)


@dataclass(frozen=True, slots=True)
class Shape:
    """How a run makes and drains its jobs (`main`'s options)."""

    batch: int
    claim: int
    rounds: int
    warmup: int
    deep: bool
    keyed: bool


async def measure(url: str, sql: list[str], shape: Shape) -> Phases:
    store = open_store(url)
    try:
        await store.upgrade()
        if sql:
            conn = await asyncpg.connect(url)
            try:
                for statement in sql:
                    await conn.execute(statement)
            finally:
                await conn.close()
            await store.close()  # a fresh pool: no plan kept from before the change
            store = open_store(url)
        tenant = (await store.tenant_create(f"bench-phases-{time.monotonic_ns()}")).id
        n, k, counted = shape.batch, shape.keyed, Phases()
        for _ in range(shape.warmup):
            await _create(store, tenant, n, k)
            await _drain(store, tenant, shape.claim, n, Phases())
        if shape.deep:
            for _ in range(shape.rounds):
                counted.create += await _create(store, tenant, n, k)
            await _drain(store, tenant, shape.claim, shape.rounds * n, counted)
        else:
            for _ in range(shape.rounds):
                counted.create += await _create(store, tenant, n, k)
                await _drain(store, tenant, shape.claim, n, counted)
        counted.jobs = shape.rounds * n
        return counted
    finally:
        await store.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.job_phases",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--batch", type=int, default=1000, help="jobs a create (1,000)")
    p.add_argument("--claim", type=int, default=200, help="jobs a claim, and an end (200)")
    p.add_argument("--rounds", type=int, default=20, help="creates counted (20)")
    p.add_argument("--warmup", type=int, default=2, help="rounds not counted first (2)")
    p.add_argument("--deep", action="store_true", help="create every round's jobs, then drain")
    p.add_argument("--keyed", action="store_true", help="an idempotency key on every job")
    p.add_argument("--sql", action="append", default=[], help="a statement to run first")
    p.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    a = p.parse_args(argv)
    if min(a.batch, a.claim, a.rounds) < 1 or a.warmup < 0:
        raise SystemExit("--batch, --claim and --rounds must be at least 1, --warmup at least 0")
    with postgres_database(a.pg_admin_url) as url:
        shape = Shape(a.batch, a.claim, a.rounds, a.warmup, a.deep, a.keyed)
        phases = asyncio.run(measure(url, a.sql, shape))
    cost = phases.per_job_us()
    print(
        f"PostgreSQL's CPU a job, {phases.jobs:,} jobs: "
        + ", ".join(f"{k} {v:.1f}" for k, v in cost.items())
        + f"; in all {sum(cost.values()):.1f} µs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
