"""The FastAPI application: routers, error mapping, limits, and the Jobyard lifecycle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from jobyard._version import __version__
from jobyard.api import errors
from jobyard.api.body_limit import MAX_BODY, AnnouncedBodyLimit
from jobyard.api.routes import health, jobs, keys, logs, record_errors, workers
from jobyard.service.runtime import Jobyard, Settings


def create_app(settings: Settings, jobyard: Jobyard | None = None) -> FastAPI:
    jy = jobyard or Jobyard.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await jy.start()
        app.state.jobyard = jy
        try:
            yield
        finally:
            await jy.stop()

    app = FastAPI(
        title="Jobyard",
        version=__version__,
        description="Hand work to workers and follow every job while it runs.",
        lifespan=lifespan,
    )
    errors.install(app)
    for module in (jobs, workers, logs, record_errors, keys, health):
        app.include_router(module.router, max_body_size=MAX_BODY)
    app.add_middleware(AnnouncedBodyLimit, max_bytes=MAX_BODY)
    return app
