"""The sweeper stops when told, even when the stop interrupts a sweep whose cleanup fails.

A database driver cancelled half-way through a statement may fail its own cleanup and raise
that failure instead of the cancellation (SQLite through aiosqlite does, under load). The
sweeper retries failed sweeps; it must not retry this one, or the server never stops.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from jobyard.notify.local import LocalNotifier
from jobyard.service.sweeper import Sweeper
from jobyard.store.protocol import Store


class _CleanupFailsWhenCancelled:
    """A store whose sweep hangs until cancelled, then fails as such a driver does."""

    def __init__(self) -> None:
        self.sweeping = asyncio.Event()
        self.sweeps = 0

    async def sweep(self) -> Any:
        self.sweeps += 1
        self.sweeping.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise RuntimeError("cleanup failed while the statement was cancelled") from None


class _Fails:
    def __init__(self) -> None:
        self.sweeps = 0

    async def sweep(self) -> Any:
        self.sweeps += 1
        raise RuntimeError("database unreachable")


async def test_a_stop_during_a_sweep_stops_even_when_the_cleanup_fails() -> None:
    store = _CleanupFailsWhenCancelled()
    sweeper = Sweeper(cast(Store, store), LocalNotifier(), interval_s=0.01)
    sweeper.start()
    await asyncio.wait_for(store.sweeping.wait(), 5)
    await asyncio.wait_for(sweeper.stop(), 5)  # before the fix: waits for ever
    assert store.sweeps == 1


async def test_a_failed_sweep_is_tried_again() -> None:
    store = _Fails()
    sweeper = Sweeper(cast(Store, store), LocalNotifier(), interval_s=0.01)
    sweeper.start()
    await asyncio.sleep(0.2)
    await asyncio.wait_for(sweeper.stop(), 5)
    assert store.sweeps >= 3
