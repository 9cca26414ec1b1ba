"""`jobyard serve`'s uvicorn server, started and stopped around a bare lifespan app: what its
start does to the process (the collector, the GIL), without a store or a port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any


@asynccontextmanager
async def started_server(on_start: Callable[[], None] = lambda: None) -> AsyncIterator[None]:
    """The server started (`on_start` runs in the app's start), until the block ends."""
    import uvicorn

    from jobyard.cli.main import _stopping_server_class

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        await receive()
        on_start()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})

    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning")
    server = _stopping_server_class()(config, lambda: None)
    config.load()
    server.lifespan = config.lifespan_class(config)
    await server.startup()
    try:
        yield
    finally:
        await server.shutdown()
