"""What every face needs from its routes: errors answered in the vendor's own shape.

FastAPI's exception handlers are global to the app, and the native API's give the native shape.
A face's router uses `face_route(render)` as its `route_class`, so any error raised in its
handlers or dependencies (a `JobyardError` from the service, a validation error, an HTTP error)
is rendered by the face's `render` instead, before the global handlers see it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from jobyard.domain.errors import JobyardError, NotFound

FaceError = JobyardError | RequestValidationError | HTTPException
Render = Callable[[Request, FaceError], Response]


def face_route(render: Render) -> type[APIRoute]:
    class FaceRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def handle(request: Request) -> Response:
                try:
                    return await handler(request)
                except (JobyardError, RequestValidationError, HTTPException) as exc:
                    return render(request, exc)

            return handle

    return FaceRoute


NOT_SERVED_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def answer_the_rest(router: APIRouter, *served: APIRouter | tuple[str, APIRouter]) -> None:
    """Route every other path under `router`'s prefix to the face's own errors: 405 with
    `Allow` when one of the `served` routers (whose paths sit below that prefix, or below
    the sub-prefix given with it) has the path for other methods, else 404. Call it after
    including them; `router`'s `route_class` must be the face's."""
    mounted = [s if isinstance(s, tuple) else ("", s) for s in served]
    routes = [(p, r) for p, s in mounted for r in s.routes if isinstance(r, APIRoute)]

    @router.api_route("/{rest:path}", methods=NOT_SERVED_METHODS, include_in_schema=False)
    async def not_served(rest: str) -> Response:
        path = "/" + rest
        allowed = sorted(
            {
                m
                for prefix, r in routes
                if path.startswith(prefix) and r.path_regex.match(path.removeprefix(prefix))
                for m in r.methods or ()
            }
        )
        if allowed:
            raise HTTPException(405, "method not allowed", headers={"Allow": ", ".join(allowed)})
        raise NotFound("no such endpoint")
