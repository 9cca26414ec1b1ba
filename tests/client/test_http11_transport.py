"""The SDK's HTTP/1.1 transport, against servers on loopback that answer as real ones can:
kept-alive and closed connections, chunked and streamed answers, bodies framed by the close,
slow and broken servers. Each server is a few lines of asyncio that note what they were sent."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import pytest

from jobyard.client import AsyncClient
from jobyard.client.http11_transport import Http11Transport
from tests.support.api import Tenant


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    url: str
    connections: int = 0
    requests: list[Request] = field(default_factory=list)


Answer = Callable[[Server, Request, asyncio.StreamWriter], Awaitable[bool]]  # True: keep open


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    first, *lines = head.decode("latin-1").split("\r\n")[:-2]
    method, target, _ = first.split(" ")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines)}
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        body = b""
        while size := int((await reader.readuntil(b"\r\n"))[:-2], 16):
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        await reader.readexactly(2)
    else:
        body = b""
    return Request(method, target, headers, body)


@asynccontextmanager
async def serving(answer: Answer) -> AsyncIterator[Server]:
    server = Server("")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.connections += 1
        try:
            while (request := await _read_request(reader)) is not None:
                server.requests.append(request)
                if not await answer(server, request, writer):
                    break
        finally:
            writer.close()

    listening = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    server.url = f"http://127.0.0.1:{port}"
    async with listening:
        yield server


def framed(body: bytes, status: str = "200 OK", extra: str = "") -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


async def echo(server: Server, request: Request, writer: asyncio.StreamWriter) -> bool:
    writer.write(framed(f"{request.method} {request.target} ".encode() + request.body))
    await writer.drain()
    return True


@asynccontextmanager
async def client(server: Server, keepalive_s: float = 5.0) -> AsyncIterator[httpx.AsyncClient]:
    transport = Http11Transport(keepalive_s=keepalive_s)
    async with httpx.AsyncClient(base_url=server.url, transport=transport, timeout=5) as c:
        yield c


async def test_requests_share_one_kept_alive_connection() -> None:
    async with serving(echo) as server, client(server) as c:
        for i in range(5):
            r = await c.post("/jobs", params={"n": i}, content=b"x" * i)
            assert (r.status_code, r.text) == (200, f"POST /jobs?n={i} " + "x" * i)
        assert r.http_version == "HTTP/1.1"
    assert server.connections == 1
    assert [q.headers["host"] for q in server.requests] == [server.url[7:]] * 5


async def test_requests_at_once_each_get_their_own_answer() -> None:
    async def slow_echo(server: Server, request: Request, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(0.05)
        return await echo(server, request, writer)

    async with serving(slow_echo) as server, client(server) as c:
        answers = await asyncio.gather(*(c.get(f"/n/{i}") for i in range(8)))
        assert [r.text for r in answers] == [f"GET /n/{i} " for i in range(8)]
        again = await asyncio.gather(*(c.get(f"/n/{i}") for i in range(8)))
        assert [r.text for r in again] == [f"GET /n/{i} " for i in range(8)]
    assert server.connections == 8  # the second round reused the first round's connections


async def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    async def once(server: Server, request: Request, writer: asyncio.StreamWriter) -> bool:
        await echo(server, request, writer)
        return False  # then close, as a server's idle timeout does

    async with serving(once) as server, client(server) as c:
        assert (await c.post("/a", content=b"1")).text == "POST /a 1"
        await asyncio.sleep(0.05)  # the close has arrived
        assert (await c.post("/b", content=b"2")).text == "POST /b 2"
    assert server.connections == 2
    assert [q.body for q in server.requests] == [b"1", b"2"]


async def test_a_request_crossing_the_servers_close_is_sent_again_on_a_new_connection() -> None:
    """The server reads the second request's head, then closes without answering (its idle
    timeout crossing our send): the request is sent once more, whole, and answered."""
    crossed = False

    async def drop_second(server: Server, request: Request, writer: asyncio.StreamWriter) -> bool:
        nonlocal crossed
        if request.target == "/b" and not crossed:
            crossed = True
            return False
        return await echo(server, request, writer)

    async with serving(drop_second) as server, client(server) as c:
        assert (await c.post("/a", content=b"1")).text == "POST /a 1"
        assert (await c.post("/b", content=b"2")).text == "POST /b 2"
    assert server.connections == 2
    sent = [(q.target, q.body) for q in server.requests]
    assert sent == [("/a", b"1"), ("/b", b"2"), ("/b", b"2")]


async def test_a_new_connection_closed_without_an_answer_is_an_error() -> None:
    async def never(server: Server, request: Request, writer: asyncio.StreamWriter) -> bool:
        return False

    async with serving(never) as server, client(server) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            await c.get("/")
    assert server.connections == 1  # not sent again: a new connection has no excuse


async def test_an_answer_saying_close_is_not_kept() -> None:
    async def closing(server: Server, request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(framed(b"bye", extra="Connection: close\r\n"))
        return False

    async with serving(closing) as server, client(server) as c:
        assert [(await c.get("/")).text for _ in range(3)] == ["bye"] * 3
    assert server.connections == 3


async def test_a_chunked_answer_is_streamed_as_it_comes() -> None:
    sent_second = asyncio.Event()
    got_first = asyncio.Event()

    async def chunked(server: Server, request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await writer.drain()
        await got_first.wait()  # the client has the first chunk before the second exists
        writer.write(b"6\r\nsecond\r\n0\r\n\r\n")
        sent_second.set()
        return True

    async with serving(chunked) as server, client(server) as c:
        async with c.stream("GET", "/events") as r:
            parts = []
            async for part in r.aiter_raw():
                parts.append(part)
                if part == b"first":
                    assert not sent_second.is_set()
                    got_first.set()
        assert parts == [b"first", b"second"]
        assert (await c.get("/again")).status_code == 200
    assert server.connections == 1  # read to its end, the connection went back to the pool


async def test_a_stream_closed_early_closes_its_connection() -> None:
    async def endless(server: Server, request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        while not writer.is_closing():
            writer.write(b"4\r\ntick\r\n")
            try:
                await writer.drain()
            except ConnectionError:
                break
            await asyncio.sleep(0.01)
        return False

    async with serving(endless) as server, client(server) as c:
        async with c.stream("GET", "/events") as r:
            async for part in r.aiter_raw():
                assert part.startswith(b"tick")
                break
        async with c.stream("GET", "/events") as r:
            assert await r.aiter_raw().__anext__()
    assert server.connections == 2


async def test_a_body_framed_by_the_close_is_read_to_the_close() -> None:
    async def unframed(server: Server, request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\n\r\n")
        for i in range(3):
            writer.write(b"part %d;" % i)
            await writer.drain()
            await asyncio.sleep(0.01)
        return False

    async with serving(unframed) as server, client(server) as c:
        assert (await c.get("/")).text == "part 0;part 1;part 2;"
        assert (await c.get("/")).text == "part 0;part 1;part 2;"
    assert server.connections == 2


async def test_a_large_answer_arrives_whole_through_the_pauses() -> None:
    big = bytes(range(256)) * 8192  # 2 MiB, past the high-water mark many times

    async def large(server: Server, request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(framed(big))
        await writer.drain()
        return True

    async with serving(large) as server, client(server) as c:
        async with c.stream("GET", "/big") as r:
            got = b""
            async for part in r.aiter_raw():
                got += part
                await asyncio.sleep(0)  # a slow reader
        assert got == big
        assert (await c.get("/big")).content == big


async def test_a_streamed_request_body_is_sent_chunked_and_whole() -> None:
    async def parts() -> AsyncIterator[bytes]:
        for i in range(5):
            yield b"%d," % i

    async with serving(echo) as server, client(server) as c:
        r = await c.post("/upload", content=parts())
        assert r.text == "POST /upload 0,1,2,3,4,"
        big = b"y" * (3 * 1024 * 1024)
        assert (await c.put("/upload", content=big)).content == b"PUT /upload " + big
    assert server.requests[0].headers["transfer-encoding"] == "chunked"


async def test_an_interim_answer_is_skipped() -> None:
    async def interim(server: Server, request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n" + framed(b"done", "201 Created"))
        return True

    async with serving(interim) as server, client(server) as c:
        r = await c.post("/", content=b"x")
        assert (r.status_code, r.text, r.reason_phrase) == (201, "done", "Created")


async def test_a_server_that_does_not_answer_in_time_is_a_read_timeout() -> None:
    async def silent(server: Server, request: Request, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(5)
        return False

    async with serving(silent) as server, client(server) as c:
        with pytest.raises(httpx.ReadTimeout):
            await c.get("/", timeout=0.2)


async def test_an_answer_cut_short_is_a_read_error_and_not_sent_again() -> None:
    async def cut(server: Server, request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
        await writer.drain()
        return False

    async with serving(cut) as server, client(server) as c:
        with pytest.raises(httpx.ReadError):
            await c.get("/")
    assert len(server.requests) == 1


async def test_an_answer_that_is_not_http_is_a_protocol_error() -> None:
    async def garbage(server: Server, request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        return True

    async with serving(garbage) as server, client(server) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            await c.get("/")


async def test_nothing_listening_is_a_connect_error() -> None:
    listening = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    listening.close()
    await listening.wait_closed()
    async with httpx.AsyncClient(transport=Http11Transport()) as c:
        with pytest.raises(httpx.ConnectError):
            await c.get(f"http://127.0.0.1:{port}/")


async def test_an_idle_connection_past_its_keepalive_is_not_reused() -> None:
    async with serving(echo) as server, client(server, keepalive_s=0.05) as c:
        await c.get("/1")
        await c.get("/2")
        await asyncio.sleep(0.1)
        await c.get("/3")
    assert server.connections == 2


async def test_https_and_head_go_to_the_fallback_transport() -> None:
    seen: list[str] = []

    def fallback(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url}")
        return httpx.Response(204)

    transport = Http11Transport(fallback=httpx.MockTransport(fallback))
    async with httpx.AsyncClient(transport=transport) as c:
        assert (await c.get("https://jobs.example/v1/jobs")).status_code == 204
        assert (await c.head("http://jobs.example/v1/jobs")).status_code == 204
    assert seen == ["GET https://jobs.example/v1/jobs", "HEAD http://jobs.example/v1/jobs"]


async def test_the_sdk_speaks_through_it_and_leaves_no_reference_cycles(tenant: Tenant) -> None:
    async with AsyncClient(tenant.server.url, tenant.admin_key) as sdk:
        assert isinstance(sdk._http._transport, Http11Transport)
        job = await sdk.create_job("t", queue="http11")
        await sdk.get_job(job.id)  # first calls fill caches
        gc.collect()
        gc.disable()
        try:
            for _ in range(20):
                assert (await sdk.get_job(job.id)).id == job.id
            assert gc.collect() == 0
        finally:
            gc.enable()


async def test_a_proxy_named_by_the_environment_is_honoured_through_httpxs_transport(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    async with AsyncClient("http://jobs.example", "k") as sdk:
        assert not isinstance(sdk._http._transport, Http11Transport)
        chosen = sdk._http._transport_for_url(httpx.URL("http://jobs.example/v1/jobs"))
        assert isinstance(chosen, httpx.AsyncHTTPTransport)
        assert chosen is not sdk._http._transport  # the proxy's own mount
