"""Letting go of a read response's body stream, so reference counting frees the response.

httpx 0.28 links each response and the stream wrapping its body both ways (the stream notes the
response's elapsed time when it closes): a reference cycle per request, which only CPython's
cycle collector frees. A worker makes thousands of requests, so the collector ran every few
seconds for tens of milliseconds, and every job that arrived in that pause waited for it (the
idle enqueue-to-start p99 of `scripts/bench`). Once a response is read, its body lives in
`response.content` and the stream is closed, so nothing needs the stream any more.
"""

from __future__ import annotations

import httpx

_READ = httpx.ByteStream(b"")  # what a read response's stream becomes: empty, never used


def drop_stream(response: httpx.Response) -> httpx.Response:
    """`response` with its closed body stream replaced, breaking the cycle; a response still
    open (being streamed) is left as it is."""
    if response.is_closed:
        response.stream = _READ
    return response
