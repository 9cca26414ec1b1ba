"""LISTEN/NOTIFY notifier: a publish on any server node wakes the waiters on every node."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import asyncpg

from jobyard.notify.local import LocalNotifier

CHANNEL = "jobyard_work"
log = logging.getLogger(__name__)


def _dsn(url: str) -> str:
    for prefix in ("postgresql+asyncpg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


NOTIFY_BYTES = 7000  # a NOTIFY payload must stay under 8,000 bytes


def payloads(topics: set[str]) -> Iterator[str]:
    """The topics, newline-separated, in as few payloads as fit one NOTIFY each."""
    group: list[str] = []
    size = 0
    for topic in sorted(topics):
        if group and size + len(topic.encode()) + 1 > NOTIFY_BYTES:
            yield "\n".join(group)
            group, size = [], 0
        group.append(topic)
        size += len(topic.encode()) + 1
    if group:
        yield "\n".join(group)


class PostgresNotifier(LocalNotifier):
    """One listening connection per node fans notifications out to local waiters; a lost
    connection is re-opened (claimers also poll every second, so nothing waits forever).

    A publish wakes this node's waiters at once and leaves the NOTIFY for the other nodes to a
    sender of its own: a request that made work does not wait for that round trip, and topics
    published while a NOTIFY is on its way go out together in the next one."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._dsn = _dsn(url)
        self._listen: asyncpg.Connection | None = None
        self._pub: asyncpg.Connection | None = None
        self._pub_pid = 0  # the backend of `_pub`, whose notifications come back to us too
        self._outgoing: set[str] = set()
        self._wake = asyncio.Event()
        self._keeper: asyncio.Task[None] | None = None
        self._sender: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._connect()
        self._keeper = asyncio.create_task(self._keep_alive())
        self._sender = asyncio.create_task(self._send_loop())

    async def _connect(self) -> None:
        self._listen = await asyncpg.connect(self._dsn)
        await self._listen.add_listener(CHANNEL, self._on_notify)

    def _on_notify(self, _conn: Any, pid: int, _channel: str, payload: str) -> None:
        if pid == self._pub_pid:
            return  # this node's own: `publish` delivered it here already
        self.deliver(set(payload.split("\n")))

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(5)
            if self._listen is None or self._listen.is_closed():
                with contextlib.suppress(OSError, asyncpg.PostgresError):
                    await self._connect()

    async def publish(self, topics: set[str]) -> None:
        if not topics:
            return
        self.deliver(topics)  # local waiters need not wait for the round trip
        self._outgoing |= topics
        self._wake.set()

    async def _send_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._send()
            except Exception:  # the sender must outlive any one failure; polls cover the gap
                log.exception("notify failed, other nodes will see the work on their next poll")
                self._pub = None

    async def _send(self) -> None:
        topics, self._outgoing = self._outgoing, set()
        if not topics:
            return
        try:
            if self._pub is None or self._pub.is_closed():
                self._pub = await asyncpg.connect(self._dsn)
                self._pub_pid = self._pub.get_server_pid()
            for payload in payloads(topics):
                await self._pub.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("notify failed, other nodes will see the work on their next poll: %s", exc)
            self._pub = None

    async def close(self) -> None:
        for task in (self._keeper, self._sender):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                await self._send()  # what was published last, if it can go out at once
        for conn in (self._listen, self._pub):
            if conn is not None and not conn.is_closed():
                await conn.close()
        await super().close()
