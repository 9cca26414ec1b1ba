"""RQ with Redis (`bench/peers/rq_jobs.py` holds the job function)."""

from __future__ import annotations

from bench.systems.base import QUEUE, ROOT, Setup
from bench.systems.peer import PeerSystem


class RqRedis(PeerSystem):
    name = "rq"
    label = "RQ (Redis)"
    module = "bench.peers.rq_jobs"
    store = "redis"
    libraries = ("rq", "redis", "hiredis")

    def worker_argv(self, setup: Setup, i: int) -> list[str]:
        return [
            str(setup.peers_bin / "rq"),
            "worker",
            "--worker-class",
            "rq.worker.SimpleWorker",
            "--url",
            setup.redis_url,
            "--path",
            str(ROOT),
            "--quiet",
            "--disable-job-desc-logging",
            QUEUE,
        ]

    def settings(self, setup: Setup) -> list[str]:
        return [
            f"{setup.workers} x `rq worker --worker-class rq.worker.SimpleWorker --quiet`"
            " (no fork per job, as RQ's performance notes advise for very short jobs)",
            "results kept for RQ's default 500 s",
            "producer: `Queue.enqueue_many` (one pipeline a batch) / `Queue.enqueue`",
        ]
