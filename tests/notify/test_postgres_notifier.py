"""LISTEN/NOTIFY between two nodes: a publish wakes the other node's waiters soon after, without
the publisher waiting for it; topics published together arrive together."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

from jobyard.notify.postgres import CHANNEL, PostgresNotifier

pytestmark = pytest.mark.postgres


@pytest.fixture
async def nodes(pg_url: str) -> AsyncIterator[tuple[PostgresNotifier, PostgresNotifier]]:
    a, b = PostgresNotifier(pg_url), PostgresNotifier(pg_url)
    await a.start()
    await b.start()
    yield a, b
    await a.close()
    await b.close()


async def test_a_publish_wakes_the_other_node_without_waiting_for_it(
    nodes: tuple[PostgresNotifier, PostgresNotifier],
) -> None:
    a, b = nodes
    async with b.listen(["q:1"]) as waiting, a.listen(["q:1"]) as local:
        started = time.monotonic()
        await a.publish({"q:1"})
        assert time.monotonic() - started < 0.05, "the NOTIFY goes out on its own"
        assert local.heard() == {"q:1"}, "this node's waiters hear it at once"
        assert await waiting.wait(5.0)
        assert waiting.heard() == {"q:1"}


async def test_a_publish_does_not_wait_on_a_database_that_hangs(pg_url: str) -> None:
    """The work is made; the NOTIFY is a hint (waiters also poll): a publisher whose database
    does not answer must not hold up the request that published."""

    taken: list[asyncio.StreamWriter] = []

    async def silent(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        taken.append(w)  # takes the connection, never answers

    hanging = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = hanging.sockets[0].getsockname()[1]
    node = PostgresNotifier(pg_url)
    await node.start()
    try:
        node._dsn = f"postgresql://postgres@127.0.0.1:{port}/x"  # the next connection hangs
        async with node.listen(["q:1"]) as local:
            await asyncio.wait_for(node.publish({"q:1"}), 0.5)
            assert local.heard() == {"q:1"}
    finally:
        await asyncio.wait_for(node.close(), 5)
        for w in taken:
            w.close()
            await w.wait_closed()
        hanging.close()
        await hanging.wait_closed()


async def test_many_publishes_all_arrive(nodes: tuple[PostgresNotifier, PostgresNotifier]) -> None:
    a, b = nodes
    topics = [f"q:{i}" for i in range(300)]
    async with b.listen(topics) as waiting:
        for topic in topics:
            await a.publish({topic})
        heard: set[str] = set()
        deadline = time.monotonic() + 5
        while heard != set(topics) and time.monotonic() < deadline:
            await waiting.wait(0.5)
            heard |= waiting.heard()
        assert heard == set(topics)


async def test_a_node_ignores_its_own_notify(
    nodes: tuple[PostgresNotifier, PostgresNotifier],
) -> None:
    a, _ = nodes
    async with a.listen(["q:1"]) as local:
        await a.publish({"q:1"})
        assert local.heard() == {"q:1"}
        await asyncio.sleep(0.3)  # the NOTIFY came back meanwhile
        assert not local.heard(), "heard once, not again when its own NOTIFY came back"


@pytest.fixture
async def on_demand(pg_url: str) -> AsyncIterator[tuple[PostgresNotifier, PostgresNotifier]]:
    """Two nodes for which `log:` topics are on demand, saying their interest every 0.1 s."""
    a = PostgresNotifier(pg_url, on_demand=("log:",), interest_s=0.1)
    b = PostgresNotifier(pg_url, on_demand=("log:",), interest_s=0.1)
    await a.start()
    await b.start()
    yield a, b
    await a.close()
    await b.close()


@asynccontextmanager
async def notifies(pg_url: str) -> AsyncIterator[list[str]]:
    """Every topic NOTIFY carries on the work channel while the block runs."""
    heard: list[str] = []
    conn = await asyncpg.connect(pg_url.replace("postgresql+asyncpg://", "postgresql://"))
    await conn.add_listener(CHANNEL, lambda _c, _p, _ch, payload: heard.extend(payload.split("\n")))
    try:
        yield heard
    finally:
        await conn.close()


async def test_an_on_demand_topic_goes_to_other_nodes_only_while_one_waits_for_it(
    on_demand: tuple[PostgresNotifier, PostgresNotifier], pg_url: str
) -> None:
    a, b = on_demand
    async with notifies(pg_url) as sent:
        async with a.listen(["log:t:1"]) as local:
            await a.publish({"log:t:1", "t:queue"})
            assert local.heard() == {"log:t:1"}, "this node's own waiters always hear it"
        await asyncio.sleep(0.3)
        assert sent == ["t:queue"], "no other node waits for log:, so it stayed here"

        async with b.listen(["log:t:2"]) as remote:
            await asyncio.sleep(0.3)  # b has said so; a heard it
            await a.publish({"log:t:2", "log:t:3"})
            assert await remote.wait(5.0)
            assert remote.heard() == {"log:t:2"}
            await asyncio.sleep(0.5)  # b keeps saying so while it waits
            await a.publish({"log:t:2"})
            assert await remote.wait(5.0)
        await asyncio.sleep(0.5)  # b stopped waiting: past three of its intervals, a stops
        sent.clear()
        await a.publish({"log:t:2", "t:queue"})
        await asyncio.sleep(0.3)
        assert sent == ["t:queue"]


async def test_topics_not_on_demand_go_to_every_node_as_before(
    on_demand: tuple[PostgresNotifier, PostgresNotifier],
) -> None:
    a, b = on_demand
    async with b.listen(["t:queue"]) as remote:
        await a.publish({"t:queue"})
        assert await remote.wait(5.0)
        assert remote.heard() == {"t:queue"}
