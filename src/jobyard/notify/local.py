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
        self._heard: set[str] = set()

    def hear(self, topic: str) -> None:
        self._heard.add(topic)
        self.event.set()

    async def wait(self, timeout_s: float) -> bool:
        """True when something was published since the last wait (or the registration)."""
        try:
            async with asyncio.timeout(timeout_s):
                await self.event.wait()
        except TimeoutError:
            return False
        self.event.clear()
        return True

    def heard(self) -> set[str]:
        """The topics published since the last call: what a wait woke for."""
        heard, self._heard = self._heard, set()
        return heard


class LocalNotifier:
    def __init__(self) -> None:
        self._waiters: defaultdict[str, set[Listener]] = defaultdict(set)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        for listeners in self._waiters.values():
            for listener in listeners:
                listener.event.set()

    async def publish(self, topics: set[str]) -> None:
        self.deliver(topics)

    def deliver(self, topics: set[str]) -> None:
        """Wake every waiter on any of `topics` (also called by the PostgreSQL listener)."""
        for topic in topics:
            for listener in self._waiters.get(topic, ()):
                listener.hear(topic)

    @asynccontextmanager
    async def listen(self, topics: list[str]) -> AsyncIterator[Listener]:
        """Register for `topics` now, so nothing published from here on is missed, however
        long the caller takes before it waits."""
        listener = Listener()
        for t in topics:
            self._waiters[t].add(listener)
        try:
            yield listener
        finally:
            self._forget(topics, listener)

    def _forget(self, topics: list[str], listener: Listener) -> None:
        for t in topics:
            bucket = self._waiters.get(t)
            if bucket is not None:
                bucket.discard(listener)
                if not bucket:
                    del self._waiters[t]

    async def wait(self, topics: list[str], timeout_s: float) -> bool:
        async with self.listen(topics) as listener:
            return await listener.wait(timeout_s)
