"""An SDK client for worker tests that notes every request the worker makes."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from jobyard import AsyncClient

Sent = list[tuple[str, str, Any]]


def recording(sent: Sent) -> type[AsyncClient]:
    """An SDK client that notes every request it makes: method, path and JSON body."""

    class Recorder(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            body = orjson.loads(request.content) if request.content else None
            sent.append((request.method, request.url.path, body))
            if request.url.path == "/v1/executions/batch":  # the answers it reads: ok or not
                assert request.headers["prefer"] == "return=minimal"
            return await super().handle_async_request(request)

    class Recording(AsyncClient):
        def __init__(self, url: str | None = None, api_key: str | None = None) -> None:
            super().__init__(url, api_key, transport=Recorder())

    return Recording
