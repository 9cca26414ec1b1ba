"""Claiming and listing with a large table: are the indexes doing their work?

Fills a fresh database with N jobs (default 1,000,000) through the Store, most of them finished,
then times the operations a busy server repeats: claim one job, the first page of the job list,
a page filtered by status, by type and by label, and a page deep in a cursor walk. Prints
milliseconds per operation (median of repeats) for each backend.

    uv run python -m bench.scale --jobs 1000000 --backend postgres
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

from jobyard.domain.entities import ClaimRequest, ExecutionUpdate, NewJob
from jobyard.domain.filters import JobFilter
from jobyard.domain.states import ExecutionStatus, JobStatus
from jobyard.store import Store, open_store

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BATCH = 5000


async def fill(store: Store, tenant: str, n: int) -> None:
    """N jobs over 10 types and 4 queues; all but the last 1% claimed and finished."""
    done = 0
    started = time.perf_counter()
    while done < n:
        size = min(BATCH, n - done)
        batch: list[tuple[NewJob, str | None]] = [
            (
                NewJob(
                    type=f"type{(done + i) % 10}",
                    queue=f"q{(done + i) % 4}",
                    labels={"customer": f"c{(done + i) % 1000}"},
                ),
                None,
            )
            for i in range(size)
        ]
        await store.job_insert_many(tenant, None, batch)
        done += size
        if done <= n * 0.99:
            await drain(store, tenant, size)
        if done % 100_000 == 0:
            print(f"  {done:>9,} jobs in {time.perf_counter() - started:6.1f} s", flush=True)


async def drain(store: Store, tenant: str, n: int) -> None:
    left = n
    while left > 0:
        req = ClaimRequest(queues=["q0", "q1", "q2", "q3"], max=500, lease_s=60)
        claimed = await store.execution_claim(tenant, req)
        if not claimed:
            return
        updates = [
            ExecutionUpdate(
                job_id=c.execution.job_id,
                execution_number=c.execution.execution_number,
                status=ExecutionStatus.SUCCEEDED,
            )
            for c in claimed
        ]
        await store.execution_update_many(tenant, updates)
        left -= len(claimed)


async def timed(fn: Callable[[], Awaitable[object]], repeats: int = 21) -> float:
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


async def measure(store: Store, tenant: str) -> dict[str, float]:
    async def claim_one() -> None:
        claimed = await store.execution_claim(tenant, ClaimRequest(queues=["q1"], max=1))
        for c in claimed:
            done = ExecutionUpdate(
                job_id=c.execution.job_id,
                execution_number=c.execution.execution_number,
                status=ExecutionStatus.SUCCEEDED,
            )
            await store.execution_update_many(tenant, [done])

    async def deep_page() -> None:
        page = await store.job_list(tenant, JobFilter(limit=1000))
        for _ in range(20):
            page = await store.job_list(tenant, JobFilter(limit=1000, before_id=page[-1].id))

    return {
        "claim + complete one": await timed(claim_one),
        "list: first page (100)": await timed(lambda: store.job_list(tenant, JobFilter())),
        "list: status=queued": await timed(
            lambda: store.job_list(tenant, JobFilter(statuses=[JobStatus.QUEUED]))
        ),
        "list: type=type3": await timed(lambda: store.job_list(tenant, JobFilter(types=["type3"]))),
        "list: label customer=c42": await timed(
            lambda: store.job_list(tenant, JobFilter(labels={"customer": "c42"}))
        ),
        "list: 21 pages of 1,000 by cursor": await timed(deep_page, repeats=3),
    }


async def run_backend(backend: str, n: int) -> dict[str, float]:
    if backend == "sqlite":
        tmp = tempfile.mkdtemp(prefix="jobyard-scale-")
        url, cleanup = f"sqlite:///{Path(tmp) / 'scale.db'}", None
    else:
        name = f"jobyard_scale_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f"CREATE DATABASE {name}")
        await admin.close()
        url, cleanup = f"postgresql://postgres@127.0.0.1:5432/{name}", name
    store = open_store(url)
    try:
        await store.upgrade()
        tenant = (await store.tenant_create("scale")).id
        print(f"{backend}: filling {n:,} jobs")
        await fill(store, tenant, n)
        if backend == "postgres":
            async with asyncpg.create_pool(url, min_size=1, max_size=1) as pool:
                await pool.execute("VACUUM ANALYZE")
        return await measure(store, tenant)
    finally:
        await store.close()
        if cleanup:
            admin = await asyncpg.connect(PG_ADMIN)
            await admin.execute(f"DROP DATABASE IF EXISTS {cleanup} WITH (FORCE)")
            await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        results = asyncio.run(run_backend(backend, args.jobs))
        print(f"\n{backend}, {args.jobs:,} jobs in the table (median ms):")
        for name, ms in results.items():
            print(f"  {name:<36} {ms:8.2f}")


if __name__ == "__main__":
    main()
