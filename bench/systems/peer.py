"""A peer as the harness runs it: its own command-line workers, and a module of
`bench/peers/` (in the peers' environment) for the producer and the checks.

Each run gets a fresh store: a new PostgreSQL database, or the harness's Redis database
flushed before and after. The workers must say they are ready (each peer's `ready` command)
before the producer starts.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench.harness.processes import Group
from bench.harness.records import RECORD_DIR_ENV
from bench.systems import postgres
from bench.systems.base import QUEUE, ROOT, Running, Setup, dead, processes, wait_until


class PeerSystem:
    """Subclasses say how to start one worker and how they are configured."""

    name = ""
    label = ""
    module = ""  # bench.peers.<...>: the peer's tasks, producer and checks
    store = ""  # redis | postgres
    libraries: tuple[str, ...] = ()  # whose versions the report lists
    kinds: tuple[str, ...] = ("plain",)

    def worker_argv(self, setup: Setup, i: int) -> list[str]:
        raise NotImplementedError

    def settings(self, setup: Setup) -> list[str]:
        raise NotImplementedError

    def extra_env(self, setup: Setup) -> dict[str, str]:
        return {}

    def versions(self, setup: Setup) -> dict[str, str]:
        found = peer_versions(setup)
        return {lib: found[lib] for lib in self.libraries if lib in found}

    def _command(self, setup: Setup, *args: str) -> list[str]:
        return [str(setup.peers_python), "-m", self.module, *args]

    def _run(self, setup: Setup, env: dict[str, str], *args: str, timeout_s: float = 90) -> str:
        """Run one of the module's commands; "" when it succeeded, else what it printed."""
        done = subprocess.run(
            self._command(setup, *args),
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        if done.returncode == 0:
            return ""
        return (done.stderr or done.stdout).strip()[-3000:] or f"exit {done.returncode}"

    def _must(self, setup: Setup, env: dict[str, str], *args: str) -> None:
        problem = self._run(setup, env, *args)
        if problem:
            raise RuntimeError(f"{self.module} {args[0]}: {problem}")

    @contextmanager
    def session(self, setup: Setup, kind: str, scratch: Path) -> Iterator[Running]:
        records = scratch / "records"
        records.mkdir()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            RECORD_DIR_ENV: str(records),
            "BENCH_QUEUE": QUEUE,
            "BENCH_REDIS_URL": setup.redis_url,
            **self.extra_env(setup),
        }
        with ExitStack() as stack:
            broker: Group | None = None
            if self.store == "postgres":
                url, db_name = stack.enter_context(postgres.fresh_database(setup.pg_admin_url))
                env["BENCH_PG_DSN"] = url
                broker = postgres.backends(setup.pg_admin_url, db_name)
            elif setup.redis_pid is not None:
                broker = Group.of([setup.redis_pid])
            self._must(setup, env, "prepare")
            stack.callback(self._run, setup, env, "cleanup")
            argvs = [self.worker_argv(setup, i) for i in range(setup.workers)]
            procs, logs = stack.enter_context(processes(argvs, env, scratch, "worker"))
            check = subprocess.Popen(
                self._command(setup, "ready", str(setup.workers)),
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            try:
                wait_until(
                    lambda: check.poll() is not None, lambda: dead(procs, logs), "workers ready"
                )
            finally:
                if check.poll() is None:
                    check.kill()
                _, err = check.communicate()
            if check.returncode != 0:
                raise RuntimeError(f"workers not ready: {err.decode(errors='replace')[-3000:]}")
            yield Running(
                workers=Group.of(p.pid for p in procs),
                server=None,
                broker=broker,
                producer=self._command(setup, "produce"),
                producer_env=env,
                verify=lambda n: self._run(setup, env, "verify", str(n)),
                alive=lambda: dead(procs, logs),
            )


_versions: dict[Path, dict[str, str]] = {}


def peer_versions(setup: Setup) -> dict[str, str]:
    """The peers' library versions (asked once per environment)."""
    if setup.peers_python not in _versions:
        out = subprocess.run(
            [str(setup.peers_python), "-m", "bench.peers.about", "versions"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        _versions[setup.peers_python] = json.loads(out)
    return _versions[setup.peers_python]
