"""The worker's one line to the server for execution updates: heartbeats, completions, releases.

Everything goes through one sender, in batches, so that a heartbeat and a completion for the
same execution never race each other, and a burst of completions costs one request. A batch the
server cannot be reached for is kept and sent again: completions are not dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from jobyard.client.async_client import AsyncClient
from jobyard.client.errors import ApiError, JobyardClientError
from jobyard.client.models import BatchResult, ExecutionUpdate

log = logging.getLogger("jobyard.worker")

MAX_BATCH = 500
LINGER_S = 0.01


@dataclass
class Pending:
    update: ExecutionUpdate
    done: asyncio.Future[BatchResult] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Outbox:
    def __init__(self, client: AsyncClient, on_result: Callable[[BatchResult], None]) -> None:
        self.client = client
        self.on_result = on_result
        self._queue: asyncio.Queue[Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="jobyard-outbox")

    def send(self, update: ExecutionUpdate) -> asyncio.Future[BatchResult]:
        pending = Pending(update)
        self._queue.put_nowait(pending)
        return pending.done

    async def flush(self, timeout_s: float) -> None:
        """Wait until everything queued so far was answered (or `timeout_s` passed)."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._queue.join()
        except TimeoutError:
            log.warning("%d updates were not delivered before shutdown", self._queue.qsize())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        backoff = 0.5
        while True:
            batch = [await self._queue.get()]
            await asyncio.sleep(LINGER_S)
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            while True:
                try:
                    results = await self.client.update_executions([p.update for p in batch])
                    break
                except ApiError as exc:  # the whole batch was refused: report it on each row
                    log.error("execution updates refused: %s", exc)
                    results = [
                        BatchResult.model_validate(
                            {
                                "job_id": p.update.job_id,
                                "execution_number": p.update.execution_number,
                                "ok": False,
                                "error": {"code": exc.code, "message": exc.message},
                            }
                        )
                        for p in batch
                    ]
                    break
                except JobyardClientError as exc:
                    log.warning("cannot deliver %d updates, will retry: %s", len(batch), exc)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 10.0)
            backoff = 0.5
            for pending, result in zip(batch, results, strict=True):
                self.on_result(result)
                if not pending.done.done():
                    pending.done.set_result(result)
                self._queue.task_done()
