"""The sweeper: time-based work (expired leases, in-progress timeouts, due schedules).

It runs on every server node. That is safe because each sweep takes rows with conditional
UPDATEs (and `SKIP LOCKED` on PostgreSQL), so two nodes never end the same execution twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from jobyard.notify.protocol import Notifier, queue_topic
from jobyard.service import metrics
from jobyard.service.executions import EndedListeners
from jobyard.store.protocol import Store, SweepResult

log = logging.getLogger(__name__)


class Sweeper:
    def __init__(
        self,
        store: Store,
        notifier: Notifier,
        interval_s: float = 0.5,
        ended: EndedListeners | None = None,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.interval_s = interval_s
        self.ended = ended if ended is not None else EndedListeners()
        self._task: asyncio.Task[None] | None = None

    async def sweep_once(self) -> SweepResult:
        result = await self.store.sweep()
        metrics.SWEPT.labels("timed_out").inc(result.timed_out)
        metrics.SWEPT.labels("scheduled_due").inc(result.scheduled_due)
        if result.requeued:
            await self.notifier.publish({queue_topic(t, q) for t, q in result.requeued})
        await self.ended.notify(result.ended)
        return result

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep_once()
            except Exception:  # a database blip must not stop the sweeper for good
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    # Stopping: the cancellation surfaced as another error (a driver's cleanup
                    # failing half-way through a statement). Retrying would swallow the stop,
                    # and `stop` would wait for ever.
                    return
                log.exception("sweep failed; trying again")
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="jobyard-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
