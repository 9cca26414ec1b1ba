"""RQ with Redis: the job function, the producer and the checks.

    rq worker -w rq.worker.SimpleWorker -u redis://127.0.0.1:6379/13 -q bench

`SimpleWorker` runs jobs in the worker process instead of forking for each: RQ's notes on
performance name it for jobs this short. A batch is one `Queue.enqueue_many` (one Redis
pipeline); a single job one `Queue.enqueue`.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from redis import Redis  # type: ignore[import-not-found, unused-ignore]
from rq import Queue, Worker  # type: ignore[import-not-found, unused-ignore]

from bench.harness import produce, records
from bench.peers.commands import Peer, main

QUEUE = os.environ.get("BENCH_QUEUE", "bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
RECORD = "bench.peers.rq_jobs.record"  # by name: the producer runs this module as __main__


def record(k: int, t: float) -> None:
    records.record(k, t, time.time())


def _queue() -> Any:
    return Queue(QUEUE, connection=Redis.from_url(REDIS_URL))


class RqSink:
    def __init__(self) -> None:
        self.queue = _queue()
        self.queue.connection.ping()

    async def enqueue_many(self, jobs: list[tuple[int, float]]) -> None:
        self.queue.enqueue_many([Queue.prepare_data(RECORD, args=(k, t)) for k, t in jobs])

    async def enqueue_one(self, key: int, at: float) -> None:
        self.queue.enqueue(RECORD, key, at)

    async def close(self) -> None:
        self.queue.connection.close()


async def connect(plan: produce.Plan) -> produce.Sink:
    return RqSink()


def prepare() -> None:
    Redis.from_url(REDIS_URL).flushdb()


def ready(n: int) -> str:
    q = _queue()
    found = Worker.count(connection=q.connection, queue=q)
    return "" if found >= n else f"{found} of {n} RQ workers registered"


def verify(n: int) -> str:
    q = _queue()
    waiting, started = q.count, q.started_job_registry.count
    failed, finished = q.failed_job_registry.count, q.finished_job_registry.count
    if waiting or started or failed or finished != n:
        return (
            f"RQ: {waiting} queued, {started} started, {failed} failed, {finished} of {n} finished"
        )
    return ""


PEER = Peer(connect=connect, prepare=prepare, ready=ready, verify=verify, cleanup=prepare)

if __name__ == "__main__":
    sys.exit(main(PEER))
