"""What every face needs from its routes: errors answered in the vendor's own shape.

FastAPI's exception handlers are global to the app, and the native API's give the native shape.
A face's router uses `face_route(render)` as its `route_class`, so any error raised in its
handlers or dependencies (a `JobyardError` from the service, a validation error, an HTTP error)
is rendered by the face's `render` instead, before the global handlers see it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from jobyard.domain.errors import JobyardError

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
