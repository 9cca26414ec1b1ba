"""Jobyard, run as it is deployed: one `jobyard serve` and `jobyard worker` processes.

The server comes from `bench.lifecycle.serve` and the workers from
`bench.worker_drain.worker_processes` (running `bench/noop_worker.py`); the producer is the
SDK (`bench.systems.jobyard_producer`). After the run, the server's own job list must say that
every job succeeded on its first execution.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from bench import worker_drain
from bench.harness.processes import Group, children_running
from bench.harness.records import RECORD_DIR_ENV
from bench.lifecycle import serve
from bench.systems import postgres
from bench.systems.base import QUEUE, Running, Setup, dead, environ

SERVER_MARKER = "jobyard.cli.main"  # in the server's command line (`bench.lifecycle.serve`)


class Jobyard:
    kinds: tuple[str, ...] = ("plain", "follow")

    def __init__(self, backend: str) -> None:
        self.backend = backend  # sqlite | postgres
        self.name = f"jobyard-{backend}"
        self.label = "Jobyard (SQLite)" if backend == "sqlite" else "Jobyard (PostgreSQL)"

    def settings(self, setup: Setup) -> list[str]:
        prefetch = setup.jobyard_prefetch
        rate = setup.jobyard_rate_limit
        processes = setup.jobyard_server_processes if self.backend == "postgres" else 1
        return [
            "`jobyard serve` (uvicorn, uvloop, httptools, an answer in one send), "
            + ("one process" if processes == 1 else f"`--processes {processes}`")
            + (" on a SQLite file (WAL)" if self.backend == "sqlite" else ""),
            f"{setup.workers} x `jobyard worker --concurrency {setup.jobyard_concurrency}"
            + (f" --prefetch {prefetch}`" if prefetch is not None else "`"),
            "async handlers; producer: SDK `create_job_ids` (1 request a batch) / `create_job`",
            "server rate limit: "
            + ("default (1,000 requests/s per key)" if rate is None else f"{rate:g}/s per key"),
        ]

    def versions(self, setup: Setup) -> dict[str, str]:
        return {
            "jobyard": importlib.metadata.version("jobyard"),
            "uvicorn": importlib.metadata.version("uvicorn"),
            "fastapi": importlib.metadata.version("fastapi"),
        }

    @contextmanager
    def session(self, setup: Setup, kind: str, scratch: Path) -> Iterator[Running]:
        records = scratch / "records"
        records.mkdir()
        with ExitStack() as stack:
            broker: Group | None = None
            if self.backend == "postgres":
                db_url, db_name = stack.enter_context(postgres.fresh_database(setup.pg_admin_url))
                broker = postgres.backends(setup.pg_admin_url, db_name)
            else:
                db_url = f"sqlite:///{scratch / 'jobyard.db'}"
            rate = None if setup.jobyard_rate_limit is None else f"{setup.jobyard_rate_limit:g}"
            processes = setup.jobyard_server_processes if self.backend == "postgres" else 1
            options = ["--processes", str(processes)] if processes > 1 else []
            with environ(JOBYARD_RATE_LIMIT_PER_S=rate):
                url, key = stack.enter_context(serve(db_url, options))
            server_pids = children_running(os.getpid(), SERVER_MARKER)
            if len(server_pids) != 1:
                raise RuntimeError(f"expected one `jobyard serve`, found {server_pids}")
            with environ(**{RECORD_DIR_ENV: str(records)}):
                workers = stack.enter_context(
                    worker_drain.worker_processes(
                        url,
                        key,
                        queue=QUEUE,
                        processes=setup.workers,
                        concurrency=setup.jobyard_concurrency,
                        prefetch=setup.jobyard_prefetch,
                        log_dir=scratch,
                    )
                )
            running = Running(
                workers=Group.of(p.pid for p in workers),
                server=Group.of(server_pids),
                broker=broker,
                producer=[sys.executable, "-m", "bench.systems.jobyard_producer"],
                producer_env={**os.environ, "JOBYARD_URL": url, "JOBYARD_API_KEY": key},
                verify=lambda n: "",
            )
            running.verify = lambda n: self._verify(url, key, n, running)
            logs = [scratch / f"worker-{i}.log" for i in range(len(workers))]
            running.alive = lambda: dead(workers, logs)
            yield running

    def _verify(self, url: str, key: str, n: int, running: Running) -> str:
        outcome = asyncio.run(_drained(url, key))
        running.extra["server_span_s"] = outcome.span_s
        if outcome.succeeded != n:
            return f"the server lists {outcome.succeeded} of {n} jobs succeeded"
        if outcome.ran_once != n:
            return f"the server lists {n - outcome.ran_once} jobs run more than once"
        return ""


async def _drained(url: str, key: str) -> worker_drain.Drained:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        await worker_drain.wait_drained(client, QUEUE, timeout_s=60)
        return await worker_drain.drained(client, QUEUE)
