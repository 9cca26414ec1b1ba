"""The SDK's own HTTP/1.1 transport for `http://` servers: the same requests, a third of the CPU.

httpx's default transport (httpcore over anyio, h11 parsing) spends about 1 ms of CPU on each
request it sends; a worker sends three for every job it runs at idle (the claim that answers,
the completion, the next long poll) and a producer one for every job it creates. This transport
keeps httpx's client (URLs, headers, timeouts, errors, streams) and replaces only the wire: an
asyncio protocol per connection, httptools (llhttp) parsing the answers, kept-alive connections
reused per origin. Measured on the benchmark's machine, `AsyncClient.create_job` against a
local server: 1.5 to 1.8 ms of the producer's CPU a call with httpcore, 0.5 to 0.8 with this.

What it does not speak goes to httpx's own transport (`fallback`): `https://` (certificates stay
httpx's business), and methods whose answers have no body to frame by (HEAD, CONNECT).

- An answer is streamed as it arrives (server-sent events included); reading pauses past
  `_HIGH_WATER` unread bytes and resumes when the reader catches up.
- A connection goes back to the pool once its answer was read to the end and neither side
  said `Connection: close`; an idle connection older than `keepalive_s` is closed, not reused.
- A request sent on a reused connection that the server had closed (its idle timeout crossing
  our send) is sent once more on a new connection, when no byte of an answer came back: the
  server never read it. Every other failure is httpx's: `ConnectError`, `ConnectTimeout`,
  `ReadTimeout`, `WriteTimeout`, `ReadError`, `RemoteProtocolError`.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator
from typing import cast

import httptools
import httpx

Origin = tuple[str, int]

_HIGH_WATER = 256 * 1024  # unread answer bytes before the socket stops being read
_LOW_WATER = 64 * 1024
_OWN_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _timeouts(request: httpx.Request) -> dict[str, float | None]:
    found: dict[str, float | None] = request.extensions.get("timeout", {})
    return found


class _Connection(asyncio.Protocol):
    """One socket, one request at a time: writes the request, parses the answer into a stream."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self._writable: asyncio.Future[None] | None = None
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.head: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.chunks: collections.deque[bytes] = collections.deque()
        self.buffered = 0
        self.complete = False
        self.failure: Exception | None = None
        self.got_bytes = False  # any byte of this request's answer
        self.keep_alive = True
        self.until_close = False  # a body framed by the end of the connection
        self._more: asyncio.Future[None] | None = None
        self._paused = False

    # asyncio.Protocol --------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.got_bytes = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"the server's answer could not be read: {exc}"))
            self.close()

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.until_close and self.head.done() and not self.complete:
            self.complete = True  # the end of the connection was the end of the body
            self._wake()
        elif not self.complete:
            if not self.head.done():
                self._fail(httpx.RemoteProtocolError("the server closed the connection first"))
            else:
                self._fail(httpx.ReadError("the server closed the connection mid-answer"))
        if self._writable is not None and not self._writable.done():
            self._writable.set_exception(httpx.WriteError("the connection closed mid-request"))

    def pause_writing(self) -> None:
        if self._writable is None or self._writable.done():
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    # httptools callbacks -----------------------------------------------------------------------
    def on_status(self, status: bytes) -> None:
        self.reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        if self.status < 200:  # an interim answer (100 Continue): the real one follows
            self.reason, self.headers = b"", []
            return
        self.keep_alive = self.parser.should_keep_alive()
        named = {n.lower() for n, _ in self.headers}
        framed = b"content-length" in named or b"transfer-encoding" in named
        self.until_close = not framed and self.status not in (204, 304)
        if not self.head.done():
            self.head.set_result(None)

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > _HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self.status < 200:
            return
        self.complete = True
        self._wake()

    # ------------------------------------------------------------------------------------------
    def _fail(self, exc: Exception) -> None:
        if self.failure is None:
            self.failure = exc
        if not self.head.done():
            self.head.set_exception(exc)
            self.head.exception()  # retrieved: the sender reads it from `failure` too
        self._wake()

    def _wake(self) -> None:
        if self._more is not None and not self._more.done():
            self._more.set_result(None)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def write(self, data: bytes, timeout_s: float | None) -> None:
        assert self.transport is not None
        if self.closed:
            raise httpx.WriteError("the connection is closed")
        self.transport.write(data)
        if self._writable is not None and not self._writable.done():
            late = "the server did not read the request in time"
            await self._within(self._writable, timeout_s, httpx.WriteTimeout, late)

    async def wait_head(self, timeout_s: float | None) -> None:
        await self._within(self.head, timeout_s, httpx.ReadTimeout, "no answer in time")

    async def _within(
        self,
        waited: asyncio.Future[None],
        timeout_s: float | None,
        late: type[httpx.TimeoutException],
        message: str,
    ) -> None:
        """Wait for `waited`; past `timeout_s`, close the connection and raise `late`."""
        try:
            async with asyncio.timeout(timeout_s):
                await waited
        except TimeoutError:
            self.close()
            raise late(message) from None

    async def body(self, timeout_s: float | None) -> AsyncIterator[bytes]:
        while True:
            if self.chunks:
                chunk = self.chunks.popleft()
                self.buffered -= len(chunk)
                if self._paused and self.buffered < _LOW_WATER and self.transport is not None:
                    self._paused = False
                    self.transport.resume_reading()
                yield chunk
            elif self.complete:
                return
            elif self.failure is not None:
                raise self.failure
            else:
                self._more = asyncio.get_running_loop().create_future()
                await self._within(self._more, timeout_s, httpx.ReadTimeout, "the answer stopped")

    def reusable(self) -> bool:
        return self.complete and self.keep_alive and not self.until_close and not self.closed


class _Answer(httpx.AsyncByteStream):
    """An answer's body as it arrives; closing it hands the connection back or closes it."""

    def __init__(
        self, pool: Http11Transport, origin: Origin, conn: _Connection, read_s: float | None
    ) -> None:
        self._pool, self._origin, self._conn, self._read_s = pool, origin, conn, read_s
        self._done = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._conn.body(self._read_s):
            yield chunk

    async def aclose(self) -> None:
        if self._done:
            return
        self._done = True
        self._pool._release(self._origin, self._conn)


class Http11Transport(httpx.AsyncBaseTransport):
    """HTTP/1.1 for `http://` URLs, kept-alive connections per origin; see the module's text."""

    def __init__(
        self,
        *,
        keepalive_s: float = 5.0,
        max_idle: int = 20,
        fallback: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.keepalive_s = keepalive_s
        self.max_idle = max_idle  # idle connections kept per origin
        self._fallback = fallback
        self._idle: dict[Origin, list[_Connection]] = {}
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme != "http" or request.method not in _OWN_METHODS:
            return await self._other().handle_async_request(request)
        if self._closed:
            raise RuntimeError("the transport is closed")
        origin = (url.host, url.port or 80)
        timeouts = _timeouts(request)
        head = self._head(request)
        replayable = isinstance(request.stream, httpx.ByteStream)  # a body we can send again
        while True:
            conn, reused = self._reuse(origin)
            if conn is None:
                conn = await self._connect(origin, timeouts.get("connect"))
            try:
                await self._send(conn, head, request, timeouts.get("write"))
                await conn.wait_head(timeouts.get("read"))
            except (httpx.RemoteProtocolError, httpx.WriteError):
                conn.close()
                if reused and not conn.got_bytes and replayable:
                    continue  # the server had closed it: it never read this request
                raise
            except BaseException:
                conn.close()
                raise
            return httpx.Response(
                conn.status,
                headers=conn.headers,
                stream=_Answer(self, origin, conn, timeouts.get("read")),
                extensions={"http_version": b"HTTP/1.1", "reason_phrase": conn.reason},
            )

    @staticmethod
    def _head(request: httpx.Request) -> bytes:
        target = request.url.raw_path
        lines = [request.method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
        for name, value in request.headers.raw:
            lines += [name, b": ", value, b"\r\n"]
        lines.append(b"\r\n")
        return b"".join(lines)

    @staticmethod
    async def _send(
        conn: _Connection, head: bytes, request: httpx.Request, write_s: float | None
    ) -> None:
        conn._reset()
        chunked = request.headers.get("transfer-encoding", "").lower() == "chunked"
        pending = head
        assert isinstance(request.stream, httpx.AsyncByteStream)
        async for part in request.stream:
            if not part:
                continue
            framed = b"%x\r\n%b\r\n" % (len(part), part) if chunked else part
            await conn.write(pending + framed, write_s)
            pending = b""
        if chunked:
            pending += b"0\r\n\r\n"
        if pending:
            await conn.write(pending, write_s)

    def _reuse(self, origin: Origin) -> tuple[_Connection | None, bool]:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if not conn.closed and now - conn.idle_since < self.keepalive_s:
                return conn, True
            conn.close()
        return None, False

    @staticmethod
    async def _connect(origin: Origin, connect_s: float | None) -> _Connection:
        loop = asyncio.get_running_loop()
        where = f"{origin[0]}:{origin[1]}"
        try:
            async with asyncio.timeout(connect_s):
                _, conn = await loop.create_connection(_Connection, origin[0], origin[1])
        except TimeoutError:
            raise httpx.ConnectTimeout(f"no connection to {where} in time") from None
        except OSError as exc:
            raise httpx.ConnectError(f"cannot connect to {where}: {exc}") from exc
        return conn

    def _release(self, origin: Origin, conn: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if self._closed or not conn.reusable() or len(idle) >= self.max_idle:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        idle.append(conn)

    def _other(self) -> httpx.AsyncBaseTransport:
        if self._fallback is None:
            self._fallback = httpx.AsyncHTTPTransport()
        return self._fallback

    async def aclose(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
        if self._fallback is not None:
            await self._fallback.aclose()


__all__ = ["Http11Transport"]
