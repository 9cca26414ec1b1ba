"""Procrastinate on PostgreSQL (`bench/peers/procrastinate_app.py` holds the task)."""

from __future__ import annotations

from bench.systems.base import QUEUE, Setup
from bench.systems.peer import PeerSystem


class ProcrastinatePostgres(PeerSystem):
    name = "procrastinate"
    label = "Procrastinate (PostgreSQL)"
    module = "bench.peers.procrastinate_app"
    store = "postgres"
    libraries = ("procrastinate", "psycopg")

    def worker_argv(self, setup: Setup, i: int) -> list[str]:
        return [
            str(setup.peers_bin / "procrastinate"),
            "--app",
            f"{self.module}.app",
            "--log-level",
            "warning",
            "worker",
            "--queues",
            QUEUE,
            "--concurrency",
            str(setup.procrastinate_concurrency),
            "--name",
            f"bench{i}",
        ]

    def settings(self, setup: Setup) -> list[str]:
        return [
            f"{setup.workers} x `procrastinate worker --concurrency"
            f" {setup.procrastinate_concurrency}` (LISTEN/NOTIFY, the default)",
            "async task; finished jobs kept (the default); its job fetch grows slower as the"
            " queue deepens (20,000 jobs queued at once here), which concurrency does not change",
            "producer: `batch_defer_async` (one INSERT a batch) / `defer_async`",
        ]
