"""The faces: other products' jobs APIs, served over the one core.

Each face is a package `jobyard.faces.<vendor>` whose `router` carries the vendor's paths under
the face's prefix. A face translates wire formats (paths, fields, statuses, errors, auth
schemes) and calls the services; it holds no rules of its own. Faces sit above the native API
in the layers, so they may reuse its request plumbing (`jobyard.api.deps`), never the reverse.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from jobyard.api.app import create_app
from jobyard.service.runtime import Jobyard, Settings


def routers() -> list[APIRouter]:
    """Every face's router (imported here, when a server is built, not with the package)."""
    from jobyard.faces import basiq, celigo, connect, finch, iot

    return [face.router for face in (basiq, connect, finch, celigo, iot)]


def create_server_app(settings: Settings, jobyard: Jobyard | None = None) -> FastAPI:
    """The native API and every face, in one ASGI app (what `jobyard serve` runs)."""
    app = create_app(settings, jobyard)
    for router in routers():
        app.include_router(router)
    return app
