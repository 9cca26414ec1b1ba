"""LISTEN/NOTIFY notifier: a publish on any server node wakes the waiters on every node."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from jobyard.notify.local import Listener, LocalNotifier

CHANNEL = "jobyard_work"
INTEREST_CHANNEL = "jobyard_interest"  # which on-demand families a node has waiters for
INTEREST_S = 1.0  # how often a node with such waiters says so again
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
    published while a NOTIFY is on its way go out together in the next one.

    Topics of an on-demand family (`on_demand`, prefixes: a job's log lines, say, published
    for every job that writes some, waited for by the rare client that follows one) go to the
    other nodes only while one of them has a waiter in the family: a node says so on
    `INTEREST_CHANNEL` when its first such waiter comes, and every `interest_s` while it has
    some; the others keep sending the family for three times that after they last heard it.
    A family's first waiter on a node may miss what another node publishes in the few
    milliseconds before that node hears of it: waiters poll too (a tail every second)."""

    def __init__(
        self, url: str, on_demand: tuple[str, ...] = (), interest_s: float = INTEREST_S
    ) -> None:
        super().__init__()
        self._dsn = _dsn(url)
        self.on_demand = on_demand
        self.interest_s = interest_s
        self._local: Counter[str] = Counter()  # family -> waiters on this node
        self._remote: dict[str, float] = {}  # family -> until when another node wants it
        self._announce: set[str] = set()  # families to say this node waits for, next send
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
        if self.on_demand:
            await self._listen.add_listener(INTEREST_CHANNEL, self._on_interest)

    def _on_notify(self, _conn: Any, pid: int, _channel: str, payload: str) -> None:
        if pid == self._pub_pid:
            return  # this node's own: `publish` delivered it here already
        self.deliver(set(payload.split("\n")))

    def _on_interest(self, _conn: Any, pid: int, _channel: str, payload: str) -> None:
        if pid == self._pub_pid:
            return
        until = time.monotonic() + 3 * self.interest_s
        for family in payload.split("\n"):
            if family in self.on_demand:
                self._remote[family] = until

    async def _keep_alive(self) -> None:
        """Re-open a lost listening connection; say again which families this node waits for."""
        beat = 0.0
        while True:
            await asyncio.sleep(min(self.interest_s, 5.0))
            if self._local:
                self._say_interest(self._local)
            beat += min(self.interest_s, 5.0)
            if beat >= 5.0 and (self._listen is None or self._listen.is_closed()):
                beat = 0.0
                with contextlib.suppress(OSError, asyncpg.PostgresError):
                    await self._connect()

    def _say_interest(self, families: Iterable[str]) -> None:
        self._announce.update(families)
        self._wake.set()

    @asynccontextmanager
    async def listen(self, topics: list[str]) -> AsyncIterator[Listener]:
        families = Counter(f for f in self.on_demand for t in topics if t.startswith(f))
        first = [f for f in families if not self._local[f]]
        self._local.update(families)
        if first:
            self._say_interest(first)  # at once: the others start sending the family
        try:
            async with super().listen(topics) as listener:
                yield listener
        finally:
            self._local.subtract(families)
            self._local = +self._local  # families no one waits for any more are dropped

    async def publish(self, topics: set[str]) -> None:
        if not topics:
            return
        self.deliver(topics)  # local waiters need not wait for the round trip
        if self.on_demand:
            topics = self._wanted(topics)
            if not topics:
                return
        self._outgoing |= topics
        self._wake.set()

    def _wanted(self, topics: set[str]) -> set[str]:
        """The topics another node may wait for: all but those of on-demand families that no
        other node has said it waits for lately."""
        now = time.monotonic()
        wanted = tuple(f for f, until in self._remote.items() if until > now)
        return {t for t in topics if not t.startswith(self.on_demand) or t.startswith(wanted)}

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
        families, self._announce = self._announce, set()
        if not topics and not families:
            return
        try:
            if self._pub is None or self._pub.is_closed():
                self._pub = await asyncpg.connect(self._dsn)
                self._pub_pid = self._pub.get_server_pid()
            if families:
                await self._pub.execute(
                    "SELECT pg_notify($1, $2)", INTEREST_CHANNEL, "\n".join(sorted(families))
                )
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
