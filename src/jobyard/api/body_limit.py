"""The request body limit: 413, in Jobyard's JSON error shape.

FastAPI's `max_body_size` (set on each router) enforces the limit, also on streamed bodies that
announce no length. For a body whose Content-Length is over the limit, though, Starlette replaces
whatever the route answers with a plain-text 413; this middleware, outside the routes, answers
those first, in the shape of every other error.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from jobyard.api.errors import error_response

MAX_BODY = 16 * 1024 * 1024  # bytes; a batch of 1,000 jobs with sizeable params fits well within


class AnnouncedBodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = Headers(scope=scope).get("content-length", "")
            if length.isdigit() and int(length) > self.max_bytes:
                message = f"the request body is over {self.max_bytes} bytes"
                await error_response(413, "payload_too_large", message)(scope, receive, send)
                return
        await self.app(scope, receive, send)
