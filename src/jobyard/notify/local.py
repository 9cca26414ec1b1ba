"""In-process notifier: for the embedded SQLite server, where one process holds every waiter."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Listener:
    """A registration that outlives one wait: see `LocalNotifier.listen`."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    async def wait(self, timeout_s: float) -> bool:
        """True when something was published since the last wait (or the registration)."""
        try:
            async with asyncio.timeout(timeout_s):
                await self.event.wait()
        except TimeoutError:
            return False
        self.event.clear()
        return True


class LocalNotifier:
    def __init__(self) -> None:
        self._waiters: defaultdict[str, set[asyncio.Event]] = defaultdict(set)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        for events in self._waiters.values():
            for ev in events:
                ev.set()

    async def publish(self, topics: set[str]) -> None:
        self.deliver(topics)

    def deliver(self, topics: set[str]) -> None:
        """Wake every waiter on any of `topics` (also called by the PostgreSQL listener)."""
        for topic in topics:
            for ev in self._waiters.get(topic, ()):
                ev.set()

    @asynccontextmanager
    async def listen(self, topics: list[str]) -> AsyncIterator[Listener]:
        """Register for `topics` now, so nothing published from here on is missed, however
        long the caller takes before it waits."""
        listener = Listener()
        for t in topics:
            self._waiters[t].add(listener.event)
        try:
            yield listener
        finally:
            self._forget(topics, listener.event)

    def _forget(self, topics: list[str], ev: asyncio.Event) -> None:
        for t in topics:
            bucket = self._waiters.get(t)
            if bucket is not None:
                bucket.discard(ev)
                if not bucket:
                    del self._waiters[t]

    async def wait(self, topics: list[str], timeout_s: float) -> bool:
        ev = asyncio.Event()
        for t in topics:
            self._waiters[t].add(ev)
        try:
            async with asyncio.timeout(timeout_s):
                await ev.wait()
            return True
        except TimeoutError:
            return False
        finally:
            self._forget(topics, ev)
