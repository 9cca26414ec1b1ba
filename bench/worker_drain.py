"""Draining the benchmark queue with real `jobyard worker` processes (`--drain workers`).

The workers run `bench.noop_worker` and are waiting on their claims before the first job is
created, as they would be in a deployment; the figure is the span from the first job's creation
to the last job's completion, both as the database stamped them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
JOBYARD = Path(sys.executable).parent / "jobyard"
READY = "handlers ["  # the runtime's first log line: its claim loop is starting


@dataclass(frozen=True, slots=True)
class Drained:
    """What the job list says once the queue is dry."""

    succeeded: int
    ran_once: int  # succeeded on their first execution: nothing was claimed twice
    span_s: float  # first created_at to last completed_at


@contextmanager
def worker_processes(
    url: str,
    key: str,
    *,
    queue: str,
    processes: int,
    concurrency: int,
    prefetch: int | None,
    log_dir: Path,
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`processes` runs of `jobyard worker bench.noop_worker:worker`, started and ready to claim.

    Stopped with SIGTERM afterwards; a worker that does not exit 0 fails the run.
    """
    cmd = [str(JOBYARD), "worker", "bench.noop_worker:worker", "--queue", queue]
    cmd += ["--concurrency", str(concurrency), "--url", url, "--api-key", key]
    if prefetch is not None:
        cmd += ["--prefetch", str(prefetch)]
    logs = [log_dir / f"worker-{i}.log" for i in range(processes)]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for log_path in logs:
            with log_path.open("wb") as log:
                procs.append(
                    subprocess.Popen(
                        cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ)
                    )
                )
        _wait_ready(procs, logs)
        yield procs
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        codes = []
        for p in procs:
            try:
                codes.append(p.wait(30))
            except subprocess.TimeoutExpired:
                p.kill()
                codes.append(p.wait(5))
    failed = [(path, code) for path, code in zip(logs, codes, strict=True) if code != 0]
    if failed:
        path, code = failed[0]
        raise RuntimeError(f"a worker exited {code}:\n{path.read_text(errors='replace')[-3000:]}")


def _wait_ready(procs: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    deadline = time.monotonic() + 60
    waiting = set(range(len(procs)))
    while waiting:
        for i in list(waiting):
            text = logs[i].read_text(errors="replace")
            if procs[i].poll() is not None:
                raise RuntimeError(f"a worker exited at start:\n{text}")
            if READY in text:
                waiting.discard(i)
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not start in time")
        time.sleep(0.05)
    time.sleep(0.2)  # the first claims reach the server


async def wait_drained(client: httpx.AsyncClient, queue: str, timeout_s: float) -> None:
    """Until no job of `queue` is queued or running; cheap, so it can poll often."""
    params = {"queue": queue, "status": "queued,in_progress", "limit": "1"}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = await client.get("/v1/jobs", params=params)
        response.raise_for_status()
        if not orjson.loads(response.content)["items"]:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the workers did not drain the queue in {timeout_s:.0f} s")


async def drained(client: httpx.AsyncClient, queue: str) -> Drained:
    """Walk the whole job list (off the clock) for the outcome and the database's timestamps."""
    succeeded = ran_once = 0
    first: datetime | None = None
    last: datetime | None = None
    cursor = None
    while True:
        params = {"queue": queue, "limit": "1000"}
        if cursor:
            params["cursor"] = cursor
        response = await client.get("/v1/jobs", params=params)
        response.raise_for_status()
        page = orjson.loads(response.content)
        for job in page["items"]:
            created = datetime.fromisoformat(job["created_at"])
            first = created if first is None else min(first, created)
            if job["status"] != "succeeded":
                continue
            succeeded += 1
            ran_once += job["attempts"] == 1
            completed = datetime.fromisoformat(job["completed_at"])
            last = completed if last is None else max(last, completed)
        cursor = page["next_cursor"]
        if not cursor:
            break
    span = (last - first).total_seconds() if first and last else float("nan")
    return Drained(succeeded, ran_once, span)
