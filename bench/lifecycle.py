"""The whole job life cycle over HTTP, timed: batch create, batch claim, batch succeed.

One `jobyard serve` process and one client process, as a small deployment would run them. The
client behaves like a real producer: a few create requests in flight. Two ways to drain:

- `--drain http` (the default): the client is also a pool of workers, a few loops in the same
  process that each claim a batch and report the batch done before claiming again; creating
  and draining are timed one after the other.
- `--drain workers`: `--worker-processes` real `jobyard worker` processes running no-op handlers
  (`bench/noop_worker.py`), waiting on their claims before the first job is created; timed from
  the first job's creation to the last one's completion.

    uv run python -m bench.lifecycle                      # 20,000 jobs on SQLite and PostgreSQL
    uv run python -m bench.lifecycle --backend sqlite --jobs 5000 --json figures.json
    uv run python -m bench.lifecycle --drain workers --worker-processes 2 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

from bench import worker_drain

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
QUEUE = "bench"


@dataclass(frozen=True, slots=True)
class Options:
    jobs: int
    create_batch: int
    creators: int
    claim_max: int
    workers: int
    pg_admin_url: str
    with_result: bool = False
    drain: str = "http"  # or "workers"
    worker_processes: int = 2
    concurrency: int = 32
    prefetch: int | None = None
    job_type: str = "bench.noop"


@dataclass(frozen=True, slots=True)
class Figures:
    """One backend's run; rates are jobs per second of wall-clock time.

    With `--drain workers` creating and draining overlap, so there is no drain-only figure and
    `total_s` is the span from the first creation to the last completion.
    """

    backend: str
    drain: str
    jobs: int
    create_s: float
    work_s: float | None
    total_s: float
    create_jobs_per_s: float
    work_jobs_per_s: float | None
    total_jobs_per_s: float


# the server ----------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(database_url: str, options: Sequence[str] = ()) -> Iterator[tuple[str, str]]:
    """A real server on a free port, in its own data folder; yields its URL and admin key.
    `options` go to `jobyard serve` (`--processes 2`, say)."""
    port = _free_port()
    admin_key = "bench_" + secrets.token_hex(24)
    with tempfile.TemporaryDirectory(prefix="jobyard-bench-") as tmp:
        env = {
            **os.environ,
            "JOBYARD_ADMIN_KEY": admin_key,
            "JOBYARD_DATABASE_URL": database_url,
            "JOBYARD_DATA_DIR": tmp,
        }
        log_path = Path(tmp) / "server.log"
        cmd = [sys.executable, "-m", "jobyard.cli.main", "serve", "--port", str(port)]
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [*cmd, "--log-level", "warning", *options],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, proc, log_path)
            yield url, admin_key
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server exited at start:\n" + log_path.read_text())
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not answer in time:\n" + log_path.read_text())


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one run, dropped afterwards."""
    name = "jobyard_bench_" + secrets.token_hex(6)

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_url, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f"CREATE DATABASE {name}"))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


# the client ----------------------------------------------------------------------------------
async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> Any:
    response = await client.post(
        path, content=orjson.dumps(body), headers={"Content-Type": "application/json"}
    )
    if response.status_code >= 300:
        raise RuntimeError(f"POST {path} answered {response.status_code}: {response.text[:500]}")
    return orjson.loads(response.content)


async def create_all(client: httpx.AsyncClient, opts: Options) -> None:
    """`opts.creators` batch-create requests in flight until every job exists."""
    sizes = [min(opts.create_batch, opts.jobs - i) for i in range(0, opts.jobs, opts.create_batch)]
    pending = iter(enumerate(sizes))

    async def creator() -> None:
        for n, size in pending:
            jobs = [
                {"type": opts.job_type, "queue": QUEUE, "params": {"batch": n, "i": i}}
                for i in range(size)
            ]
            answer = await _post(client, "/v1/jobs/batch", {"jobs": jobs})
            if len(answer["jobs"]) != size:
                raise RuntimeError(f"batch {n}: {len(answer['jobs'])} jobs made, not {size}")

    await asyncio.gather(*(creator() for _ in range(opts.creators)))


async def work_all(client: httpx.AsyncClient, opts: Options) -> set[tuple[str, int]]:
    """`opts.workers` loops that claim a batch and report it succeeded, until the queue is dry.

    Answers every (job, execution number) done; a duplicate claim is an error.
    """
    done: set[tuple[str, int]] = set()

    async def worker(n: int) -> None:
        identity = {"id": f"bench-{n}", "hostname": socket.gethostname(), "pid": os.getpid()}
        claim = {"queues": [QUEUE], "max": opts.claim_max, "lease_s": 300, "worker": identity}
        while True:
            executions = (await _post(client, "/v1/claims", claim))["executions"]
            if not executions:
                return
            updates = [
                {
                    "job_id": x["job_id"],
                    "execution_number": x["execution_number"],
                    "status": "succeeded",
                    "expected_version": x["version"],
                    **({"result": {"ok": True}} if opts.with_result else {}),
                }
                for x in executions
            ]
            results = (await _post(client, "/v1/executions/batch", {"updates": updates}))["results"]
            for r in results:
                if not r["ok"]:
                    raise RuntimeError(f"completion refused: {r['error']}")
                address = (r["job_id"], r["execution_number"])
                if address in done:
                    raise RuntimeError(f"claimed twice: {address}")
                done.add(address)

    await asyncio.gather(*(worker(n) for n in range(opts.workers)))
    return done


async def count_succeeded(client: httpx.AsyncClient) -> int:
    """Walk the job list (off the clock) to check every job ended succeeded."""
    total, cursor = 0, None
    while True:
        params = {"queue": QUEUE, "status": "succeeded", "limit": "1000"}
        if cursor:
            params["cursor"] = cursor
        response = await client.get("/v1/jobs", params=params)
        response.raise_for_status()
        page = orjson.loads(response.content)
        total += len(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return total


def _client(url: str, key: str, opts: Options) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=url,
        headers={"Authorization": f"Bearer {key}"},
        timeout=120,
        limits=httpx.Limits(max_connections=opts.creators + opts.workers + 2),
    )


async def run_client(backend: str, url: str, key: str, opts: Options) -> Figures:
    async with _client(url, key, opts) as client:
        t0 = time.perf_counter()
        await create_all(client, opts)
        t1 = time.perf_counter()
        done = await work_all(client, opts)
        t2 = time.perf_counter()
        if len(done) != opts.jobs:
            raise RuntimeError(f"{len(done)} jobs done, not {opts.jobs}")
        succeeded = await count_succeeded(client)
        if succeeded != opts.jobs:
            raise RuntimeError(f"{succeeded} jobs succeeded, not {opts.jobs}")
    create_s, work_s = t1 - t0, t2 - t1
    return Figures(
        backend=backend,
        drain="http",
        jobs=opts.jobs,
        create_s=round(create_s, 3),
        work_s=round(work_s, 3),
        total_s=round(create_s + work_s, 3),
        create_jobs_per_s=round(opts.jobs / create_s, 1),
        work_jobs_per_s=round(opts.jobs / work_s, 1),
        total_jobs_per_s=round(opts.jobs / (create_s + work_s), 1),
    )


async def run_with_workers(backend: str, url: str, key: str, opts: Options) -> Figures:
    """Create while `jobyard worker` processes (already waiting) drain; see `worker_drain`."""
    async with _client(url, key, opts) as client:
        t0 = time.perf_counter()
        await create_all(client, opts)
        create_s = time.perf_counter() - t0
        await worker_drain.wait_drained(client, QUEUE, timeout_s=600)
        outcome = await worker_drain.drained(client, QUEUE)
    if outcome.succeeded != opts.jobs:
        raise RuntimeError(f"{outcome.succeeded} jobs succeeded, not {opts.jobs}")
    if outcome.ran_once != opts.jobs:
        raise RuntimeError(f"{opts.jobs - outcome.ran_once} jobs ran more than once")
    return Figures(
        backend=backend,
        drain="workers",
        jobs=opts.jobs,
        create_s=round(create_s, 3),
        work_s=None,
        total_s=round(outcome.span_s, 3),
        create_jobs_per_s=round(opts.jobs / create_s, 1),
        work_jobs_per_s=None,
        total_jobs_per_s=round(opts.jobs / outcome.span_s, 1),
    )


def run_against(backend: str, url: str, key: str, opts: Options, tmp: Path) -> Figures:
    if opts.drain == "http":
        return asyncio.run(run_client(backend, url, key, opts))
    with worker_drain.worker_processes(
        url,
        key,
        queue=QUEUE,
        processes=opts.worker_processes,
        concurrency=opts.concurrency,
        prefetch=opts.prefetch,
        log_dir=tmp,
    ):
        return asyncio.run(run_with_workers(backend, url, key, opts))


def run_backend(backend: str, opts: Options, data_root: Path) -> Figures:
    if backend == "postgres":
        with postgres_database(opts.pg_admin_url) as db_url, serve(db_url) as (url, key):
            return run_against(backend, url, key, opts, data_root)
    db_url = f"sqlite:///{data_root / 'bench.db'}"
    with serve(db_url) as (url, key):
        return run_against(backend, url, key, opts, data_root)


# the command ---------------------------------------------------------------------------------
def _parse(argv: list[str] | None) -> tuple[list[str], Options, Path | None]:
    p = argparse.ArgumentParser(
        prog="python -m bench.lifecycle",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--jobs", type=int, default=20_000, help="jobs per backend (20,000)")
    p.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument("--create-batch", type=int, default=1000, help="jobs per create (1,000)")
    p.add_argument("--creators", type=int, default=2, help="create requests in flight (2)")
    p.add_argument("--claim-max", type=int, default=500, help="http: executions per claim (500)")
    p.add_argument("--workers", type=int, default=4, help="http: claim/complete loops (4)")
    p.add_argument("--pg-admin-url", default=PG_ADMIN_URL, help="where to make the database")
    p.add_argument("--with-result", action="store_true", help="each success carries a result")
    p.add_argument(
        "--drain",
        choices=["http", "workers"],
        default="http",
        help="drain with loops in this process (http) or `jobyard worker` processes",
    )
    p.add_argument("--worker-processes", type=int, default=2, help="workers: processes (2)")
    p.add_argument("--concurrency", type=int, default=32, help="workers: handlers per process (32)")
    p.add_argument(
        "--prefetch", type=int, default=None, help="workers: jobs claimed ahead (= concurrency)"
    )
    p.add_argument(
        "--handler",
        choices=["async", "sync"],
        default="async",
        help="workers: no-op handler on the event loop or in threads (async)",
    )
    a = p.parse_args(argv)
    if a.jobs < 1 or not 1 <= a.create_batch <= 1000 or not 1 <= a.claim_max <= 500:
        p.error("--jobs must be positive, --create-batch 1-1000, --claim-max 1-500")
    if a.worker_processes < 1 or a.concurrency < 1:
        p.error("--worker-processes and --concurrency must be positive")
    if a.drain == "workers" and a.with_result:
        p.error("--with-result goes with --drain http (the no-op handlers return nothing)")
    backends = ["sqlite", "postgres"] if a.backend == "both" else [a.backend]
    opts = Options(
        a.jobs,
        a.create_batch,
        a.creators,
        a.claim_max,
        a.workers,
        a.pg_admin_url,
        a.with_result,
        drain=a.drain,
        worker_processes=a.worker_processes,
        concurrency=a.concurrency,
        prefetch=a.prefetch,
        job_type="bench.noop" if a.handler == "async" else "bench.noop_sync",
    )
    return backends, opts, a.json


def main(argv: list[str] | None = None) -> int:
    backends, opts, json_path = _parse(argv)
    figures: list[Figures] = []
    print(f"{'backend':<10} {'jobs':>7} {'create/s':>10} {'claim+done/s':>13} {'total/s':>9}")
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="jobyard-bench-db-") as tmp:
            f = run_backend(backend, opts, Path(tmp))
        figures.append(f)
        work = "-" if f.work_jobs_per_s is None else f"{f.work_jobs_per_s:,.0f}"
        print(
            f"{f.backend:<10} {f.jobs:>7} {f.create_jobs_per_s:>10,.0f} "
            f"{work:>13} {f.total_jobs_per_s:>9,.0f}",
            flush=True,
        )
    if json_path is not None:
        json_path.write_bytes(
            orjson.dumps([asdict(f) for f in figures], option=orjson.OPT_INDENT_2) + b"\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
