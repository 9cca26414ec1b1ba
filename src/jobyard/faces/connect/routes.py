"""Posit Connect's content jobs API under `/connect/__api__`, and what its official client
asks for on the way (server settings, the content item, the caller)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from jobyard.domain.entities import LogEntry
from jobyard.faces.connect import wire
from jobyard.faces.connect.auth import App, Caller
from jobyard.faces.connect.content import content_job, content_jobs
from jobyard.faces.connect.errors import NO_ENDPOINT, connect_error, render
from jobyard.faces.routing import face_route
from jobyard.service.logs import MAX_LIMIT
from jobyard.service.permissions import Role

PREFIX = "/connect/__api__"
VERSION = "2025.09.0"  # the Connect release whose API this face follows
DEFAULT_LOG_LINES = 5000

router = APIRouter(prefix=PREFIX, include_in_schema=False, route_class=face_route(render))

JOB = "/v1/content/{guid}/jobs/{key}"
USER_ROLES = {
    Role.ADMIN: "administrator",
    Role.MEMBER: "publisher",
    Role.VIEWER: "viewer",
    Role.WORKER: "viewer",
}


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


@router.get("/server_settings")
async def server_settings(caller: Caller) -> Response:
    """What the client reads at start: the server's version."""
    return _json({"version": VERSION, "build": VERSION, "hostname": None})


@router.get("/v1/user")
async def current_user(caller: Caller) -> Response:
    """The caller, as Connect's user: its key subject is the user's guid."""
    return _json(
        {
            "guid": caller.owner,
            "username": caller.owner,
            "first_name": None,
            "last_name": None,
            "email": None,
            "user_role": USER_ROLES[caller.role],
            "locked": False,
            "confirmed": True,
        }
    )


@router.get("/v1/content/{guid}")
async def get_content(
    guid: str,
    jy: App,
    caller: Caller,
    include: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    jobs = await content_jobs(jy, caller, guid)
    newest, oldest = jobs[0], jobs[-1]
    if caller.owner == oldest.owner:
        role = "owner"
    elif caller.role is Role.ADMIN or any(caller.owner in j.collaborators for j in jobs):
        role = "editor"
    else:
        role = "viewer"
    wanted = {p.strip() for p in (include or "").split(",") if p.strip()}
    return _json(wire.content_item(guid, newest, oldest, role, wanted))


@router.get("/v1/content/{guid}/jobs")
async def list_jobs(guid: str, jy: App, caller: Caller) -> Response:
    """Every job of the content item, newest first."""
    return _json([wire.job_item(j, guid) for j in await content_jobs(jy, caller, guid)])


@router.get(JOB)
async def get_job(guid: str, key: str, jy: App, caller: Caller) -> Response:
    return _json(wire.job_item(await content_job(jy, caller, guid, key), guid))


@router.delete(JOB)
async def kill_job(guid: str, key: str, jy: App, caller: Caller) -> Response:
    """Register a kill order: a running job's worker is told to stop; a queued job ends at
    once. An ended job answers 409 (code 163)."""
    await content_job(jy, caller, guid, key)
    now = await jy.store.now()
    job = await jy.jobs.cancel(caller, key, "kill order from the Connect API", False, now)
    return _json(wire.kill_order(job, guid))


@router.get(JOB + "/log")
async def job_log(
    guid: str,
    key: str,
    jy: App,
    caller: Caller,
    max_log_lines: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LOG_LINES,
) -> Response:
    """The newest `max_log_lines` entries, oldest first."""
    await content_job(jy, caller, guid, key)
    entries = await jy.logs.read(caller, key, limit=max_log_lines)
    return _json({"entries": [wire.log_entry(e) for e in entries]})


def _event(entry: LogEntry) -> bytes:
    return b"id: %d\ndata: %s\n\n" % (entry.seq, orjson.dumps(wire.log_entry(entry)))


@router.get(JOB + "/tail")
async def tail_log(
    guid: str,
    key: str,
    jy: App,
    caller: Caller,
    last_event_id: Annotated[str | None, Header(max_length=32)] = None,
) -> StreamingResponse:
    """Server-Sent Events, one log entry a `data:` line, from the start of the log (or after
    `Last-Event-ID`) until the job has ended; then the stream closes."""
    await content_job(jy, caller, guid, key)
    after = int(last_event_id) if last_event_id is not None and last_event_id.isdigit() else None
    slot = jy.limits.tail(caller.key_id)  # 429 when the key has its most tails open
    try:
        entries = await jy.logs.tail(caller, key, after)
    except BaseException:
        slot.release()
        raise

    async def events() -> AsyncIterator[bytes]:
        with slot:
            async for entry in entries:
                yield _event(entry)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        background=BackgroundTask(slot.release),
    )


@router.get(JOB + "/download")
async def download_log(guid: str, key: str, jy: App, caller: Caller) -> StreamingResponse:
    """The whole log (stdout and stderr) as a file named as Connect names it."""
    job = await content_job(jy, caller, guid, key)
    entries = await jy.logs.everything(caller, key)

    async def lines() -> AsyncIterator[bytes]:
        async for e in entries:
            yield wire.log_line(e).encode("utf-8", "replace")

    name = wire.log_filename(job, guid)
    return StreamingResponse(
        lines(),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(JOB + "/error")
async def job_error(guid: str, key: str, jy: App, caller: Caller) -> Response:
    """The job's primary error; 204 when it has none."""
    found = wire.logged_error(await content_job(jy, caller, guid, key))
    if found is None:
        return Response(status_code=204)
    return _json(found)


@router.api_route(
    "/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], response_model=None
)
async def unsupported(rest: str) -> JSONResponse:
    """Anything else of Connect's API is not served here."""
    return connect_error(404, NO_ENDPOINT, "The requested method or endpoint is not supported.")
