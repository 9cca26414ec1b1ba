"""What the harness needs from each system, and the process handling they share.

A system opens a `session` for one run: its database or broker made fresh, its server (Jobyard
only) and its worker processes started and waiting for work. The session says which processes
are the server, the workers and the broker (for the CPU and memory figures), how to start the
producer, and how to ask the system itself whether every job succeeded once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bench.harness.processes import Group

ROOT = Path(__file__).resolve().parent.parent.parent
QUEUE = "bench"
SETTLE_S = 0.3  # after a worker says it is ready, for its first wait on the broker to begin


@dataclass(frozen=True, slots=True)
class Setup:
    """The harness's knobs and what it found on this machine, as every system reads them."""

    workers: int
    pg_admin_url: str
    redis_url: str  # with the harness's own database number
    redis_pid: int | None
    peers_python: Path
    jobyard_concurrency: int
    jobyard_prefetch: int | None
    jobyard_rate_limit: float | None
    jobyard_server_processes: int  # `jobyard serve --processes` (PostgreSQL only)
    celery_pool: str
    celery_concurrency: int
    celery_prefetch_multiplier: int
    procrastinate_concurrency: int
    pgqueuer_batch_size: int

    @property
    def peers_bin(self) -> Path:
        return self.peers_python.parent


@dataclass
class Running:
    """A session's processes, its producer command and its own account of the jobs."""

    workers: Group
    server: Group | None
    broker: Group | None  # redis-server, or the PostgreSQL backends of the run's database
    producer: list[str]  # argv, `--mode ...` follows
    producer_env: dict[str, str]
    verify: Callable[[int], str]  # "" when the system agrees all N jobs succeeded, once each
    alive: Callable[[], str] = field(default=lambda: "")  # "" while every process runs
    extra: dict[str, float] = field(default_factory=dict)  # figures a system adds (raw JSON)


class System(Protocol):
    name: str  # as on the command line: jobyard-postgres
    label: str  # as in the report: Jobyard (PostgreSQL)
    kinds: tuple[str, ...]  # the job kinds it runs: ("plain",) or ("plain", "follow")

    def settings(self, setup: Setup) -> list[str]:
        """How it is configured, one phrase each, for the report."""
        ...

    def versions(self, setup: Setup) -> dict[str, str]: ...

    def session(
        self, setup: Setup, kind: str, scratch: Path
    ) -> AbstractContextManager[Running]: ...


def log_tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def dead(procs: list[subprocess.Popen[bytes]], logs: list[Path]) -> str:
    """Why a run cannot go on: a worker that exited, with the end of its log; else ""."""
    for proc, log in zip(procs, logs, strict=True):
        code = proc.poll()
        if code is not None:
            return f"a worker exited {code}:\n{log_tail(log)}"
    return ""


@contextmanager
def processes(
    argvs: list[list[str]], env: dict[str, str], log_dir: Path, name: str
) -> Iterator[tuple[list[subprocess.Popen[bytes]], list[Path]]]:
    """Start one process per argv (output to `name-i.log`); SIGTERM them all at the end, and
    kill what has not stopped 20 s later."""
    procs: list[subprocess.Popen[bytes]] = []
    logs = [log_dir / f"{name}-{i}.log" for i in range(len(argvs))]
    try:
        for argv, log_path in zip(argvs, logs, strict=True):
            with log_path.open("wb") as log:
                procs.append(
                    subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
                )
        yield procs, logs
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)


def wait_until(
    ready: Callable[[], bool], broken: Callable[[], str], what: str, timeout_s: float = 60
) -> None:
    """Poll until `ready()`; fail at once when `broken()` has a reason, or after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        reason = broken()
        if reason:
            raise RuntimeError(reason)
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not happen in {timeout_s:.0f} s")
        time.sleep(0.1)
    time.sleep(SETTLE_S)


@contextmanager
def environ(**values: str | None) -> Iterator[None]:
    """Set (or, for None, leave alone) environment variables for the processes started inside."""
    saved = {k: os.environ.get(k) for k in values}
    for k, v in values.items():
        if v is not None:
            os.environ[k] = v
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
