"""Celery with Redis as the broker: the task, the producer and the checks.

    celery -A bench.peers.celery_app worker -Q bench -P solo --prefetch-multiplier 128 ...

Configured as Celery's optimizing guide has it for many short tasks: no result backend
(`task_ignore_result`), a large prefetch multiplier, acknowledgement on receipt (the default),
and workers started without gossip, mingle and heartbeat. Celery has no batch enqueue: a batch
is one `apply_async` per job over one producer connection.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from celery import Celery, signals  # type: ignore[import-not-found, unused-ignore]

from bench.harness import produce, records
from bench.peers.commands import Peer, main

QUEUE = os.environ.get("BENCH_QUEUE", "bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")

app = Celery("bench", broker=REDIS_URL)
app.conf.update(
    task_ignore_result=True,
    task_default_queue=QUEUE,
    task_serializer="json",
    accept_content=["json"],
    worker_prefetch_multiplier=int(os.environ.get("BENCH_CELERY_PREFETCH_MULTIPLIER", "128")),
    broker_connection_retry_on_startup=True,
)


def record(k: int, t: float) -> None:
    records.record(k, t, time.time())


record_task = app.task(name="bench.record")(record)


def _ready(**_: Any) -> None:
    records.mark_ready()


signals.worker_ready.connect(_ready, weak=False)


class CelerySink:
    def __init__(self) -> None:
        self.producer = app.producer_pool.acquire(block=True)
        self.producer.connection.ensure_connection()

    async def enqueue_many(self, jobs: list[tuple[int, float]]) -> None:
        for k, t in jobs:
            record_task.apply_async((k, t), queue=QUEUE, producer=self.producer)

    async def enqueue_one(self, key: int, at: float) -> None:
        record_task.apply_async((key, at), queue=QUEUE, producer=self.producer)

    async def close(self) -> None:
        self.producer.release()


async def connect(plan: produce.Plan) -> produce.Sink:
    return CelerySink()


def _redis() -> Any:
    return app.connection_for_write().default_channel.client


def prepare() -> None:
    _redis().flushdb()


def ready(n: int) -> str:
    found = records.ready_count()
    return "" if found >= n else f"{found} of {n} Celery workers ready"


def verify(n: int) -> str:
    left = _redis().llen(QUEUE)
    return "" if left == 0 else f"{left} messages left in the Redis list {QUEUE!r}"


PEER = Peer(connect=connect, prepare=prepare, ready=ready, verify=verify, cleanup=prepare)

if __name__ == "__main__":
    sys.exit(main(PEER))
