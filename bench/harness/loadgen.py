"""A small HTTP load generator, for when wrk is not installed: keep-alive connections, each
sending `GET` after `GET` for a fixed time; prints the requests answered per second as JSON.

One process on uvloop with raw streams: the least a Python client can spend on a request, so
that on a small machine the server, not this, is what runs out of CPU first. wrk (C, one
thread) spends less still; the report says which of the two measured.

    python -m bench.harness.loadgen http://127.0.0.1:8099/empty --connections 32 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit

import uvloop


async def _connection(host: str, port: int, request: bytes, until: float) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    answered = 0
    try:
        while time.monotonic() < until:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"answered {head[:40]!r}")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            answered += 1
    finally:
        writer.close()
    return answered


async def _load(url: str, connections: int, seconds: float) -> float:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    start = time.monotonic()
    counts = await asyncio.gather(
        *(_connection(host, port, request, start + seconds) for _ in range(connections))
    )
    return sum(counts) / (time.monotonic() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("url")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--seconds", type=float, default=10.0)
    a = p.parse_args()
    rate = uvloop.run(_load(a.url, a.connections, a.seconds))
    print(json.dumps({"requests_per_s": round(rate, 1)}))


if __name__ == "__main__":
    main()
