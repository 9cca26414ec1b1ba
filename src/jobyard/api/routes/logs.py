"""Logs: `POST .../executions/{n}/logs` (workers), and reading: bounded, live tail, download."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from jobyard.api.deps import App, Caller
from jobyard.api.json_route import JsonRoute
from jobyard.api.operations import needs
from jobyard.api.schemas.follow import LogAppended, LogAppendIn, LogEntryOut, LogPage
from jobyard.domain.entities import LogEntry
from jobyard.service.logs import DEFAULT_LIMIT, MAX_LIMIT
from jobyard.service.permissions import Op

router = APIRouter(tags=["logs"], route_class=JsonRoute)
Number = Annotated[int, Path(ge=1, le=2**31 - 1)]
KEEPALIVE_S = 15.0


@router.post(
    "/v1/jobs/{job_id}/executions/{execution_number}/logs",
    response_model=LogAppended,
    openapi_extra=needs(Op.EXECUTION_UPDATE),
)
async def append_logs(
    job_id: str, execution_number: Number, body: LogAppendIn, jy: App, caller: Caller
) -> LogAppended:
    """Append a batch of entries; the server numbers them (`seq`, gap-free per job)."""
    last = await jy.logs.append(caller, job_id, execution_number, body.entries, body.worker_id)
    return LogAppended(last_seq=last)


@router.get("/v1/jobs/{job_id}/logs", response_model=LogPage, openapi_extra=needs(Op.JOB_READ))
async def read_logs(
    job_id: str,
    jy: App,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    execution: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> LogPage:
    """Entries after `after`, oldest first; without `after`, the newest `limit` entries."""
    entries = await jy.logs.read(
        caller, job_id, after=after, limit=limit, execution_number=execution
    )
    last = entries[-1].seq if entries else after
    return LogPage.model_construct(entries=[LogEntryOut.of(e) for e in entries], last_seq=last)


def _sse(entry: LogEntry) -> bytes:
    body = LogEntryOut.of(entry).model_dump(mode="json")
    return b"id: %d\ndata: %s\n\n" % (entry.seq, orjson.dumps(body))


@router.get(
    "/v1/jobs/{job_id}/logs/stream",
    response_class=StreamingResponse,
    openapi_extra=needs(Op.JOB_READ),
)
async def stream_logs(
    job_id: str,
    jy: App,
    caller: Caller,
    after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    last_event_id: Annotated[str | None, Header(max_length=32)] = None,
) -> StreamingResponse:
    """Server-Sent Events: the backlog, then entries as they come (`id:` is the seq, `data:` the
    entry). Resume with `Last-Event-ID`. Ends with an `end` event once the job is finished."""
    start = after
    if last_event_id is not None and last_event_id.isdigit():
        start = int(last_event_id)
    # The job first (404, 403), then a place (429): a refused tail never holds one, and a tail
    # of no job says so whatever the key's places.
    entries = await jy.logs.tail(caller, job_id, start)  # not started yet: nothing to close
    slot = jy.limits.tail(caller.key_id)  # 429 when the key has its most tails open

    async def events() -> AsyncIterator[bytes]:
        with slot:  # given back however the stream ends: its end, a disconnect, an error
            yield b": tail of job " + job_id.encode() + b"\n\n"
            async for entry in entries:
                yield _sse(entry)
            if not jy.logs.closing.is_set():  # a stopping server closes with no `end`: resume
                yield b"event: end\ndata: {}\n\n"

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        background=BackgroundTask(slot.release),  # for a client gone before the stream began
    )


@router.get(
    "/v1/jobs/{job_id}/logs/download",
    response_class=StreamingResponse,
    openapi_extra=needs(Op.JOB_READ),
)
async def download_logs(
    job_id: str,
    jy: App,
    caller: Caller,
    execution: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> StreamingResponse:
    """The whole log as a text file, streamed: `<ts> <source> <data>` a line."""
    entries = await jy.logs.everything(caller, job_id, execution)

    async def lines() -> AsyncIterator[bytes]:
        async for e in entries:
            yield f"{e.ts.isoformat()} {e.source} {e.data}\n".encode("utf-8", "replace")

    suffix = f"-{execution}" if execution is not None else ""
    return StreamingResponse(
        lines(),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="job-{job_id}{suffix}.log"'},
    )
