"""The server writes each answer in one send: head and body together, in order, nothing lost."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from jobyard.cli.coalesced_http import CoalescingHttpToolsProtocol, CoalescingTransport
from tests.support.server import Server


class Recording(asyncio.Transport):
    """A transport that keeps what it was asked to write, each call on its own."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed, "written after close"
        self.sent.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return 0


async def test_the_writes_of_one_turn_leave_in_one_call_in_order() -> None:
    inner = Recording()
    t = CoalescingTransport(inner, asyncio.get_running_loop())
    t.write(b"HTTP/1.1 200 OK\r\n\r\n")
    t.write(b"")
    t.writelines([b"{", b"}"])
    assert inner.sent == []
    assert t.get_write_buffer_size() == 21
    await asyncio.sleep(0)
    assert inner.sent == [b"HTTP/1.1 200 OK\r\n\r\n{}"]
    t.write(b"next")
    await asyncio.sleep(0)
    assert inner.sent[1:] == [b"next"]


async def test_closing_writes_what_was_kept_first_and_aborting_drops_it() -> None:
    inner = Recording()
    t = CoalescingTransport(inner, asyncio.get_running_loop())
    t.write(b"last words")
    t.close()
    assert (inner.sent, inner.closed) == ([b"last words"], True)
    await asyncio.sleep(0)  # the turn's own flush finds nothing more, and writes nothing
    assert inner.sent == [b"last words"]

    dropped = Recording()
    t = CoalescingTransport(dropped, asyncio.get_running_loop())
    t.write(b"never")
    t.abort()
    await asyncio.sleep(0)
    assert (dropped.sent, dropped.closed) == ([], True)


async def test_a_connection_gone_meanwhile_is_not_written_to() -> None:
    inner = Recording()
    t = CoalescingTransport(inner, asyncio.get_running_loop())
    t.write(b"late")
    inner.closed = True  # lost by the peer before the turn ended
    await asyncio.sleep(0)
    assert inner.sent == []


app = FastAPI()


@app.get("/small")
async def small() -> dict[str, int]:
    return {"n": 1}


@app.get("/stream")
async def stream() -> StreamingResponse:
    async def parts() -> AsyncIterator[bytes]:
        for i in range(3):
            yield f"part {i}\n".encode()
            await asyncio.sleep(0.05)  # apart in time: each is sent as it comes

    return StreamingResponse(parts(), media_type="text/plain")


@pytest.fixture
async def served() -> AsyncIterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, log_level="warning", http=CoalescingHttpToolsProtocol, access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 -- uvicorn tells it by a flag, not an event
        await asyncio.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task


async def test_an_answer_arrives_whole_in_one_read(served: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", served)
    try:
        for _ in range(3):  # on one kept-alive connection
            writer.write(b"GET /small HTTP/1.1\r\nhost: t\r\n\r\n")
            first = await asyncio.wait_for(reader.read(65536), 5)
            head, _, body = first.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK")
            assert body == b'{"n":1}'  # with its head, not after it
    finally:
        writer.close()
        await writer.wait_closed()


async def test_a_stream_is_sent_as_it_comes_and_closes_after_its_last_part(served: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", served)
    try:
        writer.write(b"GET /stream HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n")
        first = await asyncio.wait_for(reader.read(65536), 5)
        assert first.startswith(b"HTTP/1.1 200 OK")
        assert b"part 0\n" in first
        assert b"part 1" not in first  # not held back until the stream ends
        rest = await asyncio.wait_for(reader.read(), 5)  # to the end: the server closed
        whole = first + rest
        assert [p in whole for p in (b"part 0\n", b"part 1\n", b"part 2\n")] == [True] * 3
        assert whole.endswith(b"0\r\n\r\n")  # the chunked stream's end, written before closing
    finally:
        writer.close()
        await writer.wait_closed()


async def test_jobyard_serve_answers_in_one_send(live_server: Server) -> None:
    """`jobyard serve` runs on this protocol: its answers arrive whole in one read."""
    host, port = live_server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        for _ in range(3):
            writer.write(b"GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n")
            first = await asyncio.wait_for(reader.read(65536), 5)
            head, _, body = first.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            assert len(body) == length > 0
    finally:
        writer.close()
        await writer.wait_closed()
