"""The FastAPI application: routers, error mapping, limits, and the Jobyard lifecycle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from jobyard._version import __version__
from jobyard.api import errors, openapi_doc
from jobyard.api.body_limit import MAX_BODY, AnnouncedBodyLimit
from jobyard.api.routes import health, identity, jobs, keys, logs, record_errors, workers
from jobyard.api.security_headers import SecurityHeaders
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
    for module in (jobs, workers, logs, record_errors, keys, identity, health):
        app.include_router(module.router, max_body_size=MAX_BODY)
    openapi_doc.install(app)
    app.add_middleware(AnnouncedBodyLimit, max_bytes=MAX_BODY)
    app.add_middleware(SecurityHeaders)
    if settings.cors_origins:  # none set: no CORS headers at all, so browsers allow no origin
        # Added last, so outermost: refusals (401, 413, 429) carry the headers too, and a
        # browser can read them. The origins are the gate; keys travel in headers, not cookies.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["Retry-After", "Content-Disposition"],
            max_age=600,
        )
    return app
