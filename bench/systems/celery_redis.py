"""Celery 5 with Redis as the broker (`bench/peers/celery_app.py` holds the task)."""

from __future__ import annotations

from bench.systems.base import QUEUE, Setup
from bench.systems.peer import PeerSystem


class CeleryRedis(PeerSystem):
    name = "celery"
    label = "Celery (Redis)"
    module = "bench.peers.celery_app"
    store = "redis"
    libraries = ("celery", "kombu", "redis", "hiredis")

    def extra_env(self, setup: Setup) -> dict[str, str]:
        return {"BENCH_CELERY_PREFETCH_MULTIPLIER": str(setup.celery_prefetch_multiplier)}

    def worker_argv(self, setup: Setup, i: int) -> list[str]:
        return [
            str(setup.peers_bin / "celery"),
            "--app",
            self.module,
            "worker",
            "--queues",
            QUEUE,
            "--pool",
            setup.celery_pool,
            "--concurrency",
            str(setup.celery_concurrency),
            "--prefetch-multiplier",
            str(setup.celery_prefetch_multiplier),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "WARNING",
            "--hostname",
            f"bench{i}@%h",
        ]

    def settings(self, setup: Setup) -> list[str]:
        return [
            f"{setup.workers} x `celery worker --pool {setup.celery_pool}"
            f" --concurrency {setup.celery_concurrency}"
            f" --prefetch-multiplier {setup.celery_prefetch_multiplier}"
            " --without-gossip --without-mingle --without-heartbeat`",
            "no result backend (`task_ignore_result`), acknowledged on receipt (the default),"
            " JSON messages",
            "producer: one `apply_async` per job (Celery has no batch enqueue)",
        ]
