"""Record errors, the signed file of all of them, and a job's primary error."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from jobyard.api.deps import App, Caller
from jobyard.api.json_route import JsonRoute
from jobyard.api.list_query import CURSOR
from jobyard.api.operations import needs
from jobyard.api.schemas.follow import (
    FileUrlIn,
    FileUrlOut,
    PrimaryError,
    RecordErrorOut,
    RecordErrorPage,
    RecordErrorsAppended,
    RecordErrorsIn,
    Resolved,
    ResolveIn,
)
from jobyard.domain.entities import RecordError
from jobyard.domain.filters import encode_cursor
from jobyard.service.permissions import Op

router = APIRouter(tags=["errors"], route_class=JsonRoute)
Number = Annotated[int, Path(ge=1, le=2**31 - 1)]
CSV_COLUMNS = [
    "id",
    "execution_number",
    "code",
    "message",
    "source",
    "data",
    "retriable",
    "resolved",
    "created_at",
]


@router.post(
    "/v1/jobs/{job_id}/executions/{execution_number}/record-errors",
    openapi_extra=needs(Op.EXECUTION_UPDATE),
    response_model=RecordErrorsAppended,
)
async def append_record_errors(
    job_id: str, execution_number: Number, body: RecordErrorsIn, jy: App, caller: Caller
) -> RecordErrorsAppended:
    """Workers add the records they could not process, with the records themselves."""
    n = await jy.record_errors.append(
        caller, job_id, execution_number, [e.to_new() for e in body.errors], body.worker_id
    )
    return RecordErrorsAppended(added=n)


@router.get(
    "/v1/jobs/{job_id}/record-errors",
    response_model=RecordErrorPage,
    openapi_extra=needs(Op.JOB_READ),
)
async def list_record_errors(
    job_id: str,
    jy: App,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    cursor: Annotated[str | None, Query(max_length=200, json_schema_extra=CURSOR)] = None,
    resolved: bool | None = None,
) -> RecordErrorPage:
    """Oldest first, at most 1,000 a page."""
    items = await jy.record_errors.page(
        caller, job_id, cursor=cursor, limit=limit, resolved=resolved
    )
    nxt = encode_cursor(items[-1].id) if len(items) == limit else None
    return RecordErrorPage.model_construct(
        items=[RecordErrorOut.of(e) for e in items], next_cursor=nxt
    )


@router.post(
    "/v1/jobs/{job_id}/record-errors/resolve",
    response_model=Resolved,
    openapi_extra=needs(Op.RECORD_ERROR_RESOLVE),
)
async def resolve_record_errors(
    job_id: str, jy: App, caller: Caller, body: Annotated[ResolveIn | None, Body()] = None
) -> Resolved:
    """Resolve the errors named in `ids`, or all of the job's without a body."""
    ids = body.ids if body is not None else None
    return Resolved(resolved=await jy.record_errors.resolve(caller, job_id, ids))


@router.post(
    "/v1/jobs/{job_id}/record-errors/file-url",
    response_model=FileUrlOut,
    openapi_extra=needs(Op.JOB_READ),
)
async def record_errors_file_url(
    job_id: str, jy: App, caller: Caller, body: Annotated[FileUrlIn | None, Body()] = None
) -> FileUrlOut:
    """A URL, signed and expiring (1 hour by default, 7 days at most), that downloads every
    record error of the job as NDJSON or CSV without an API key."""
    ask = body or FileUrlIn()
    signed = await jy.record_errors.file_url(caller, job_id, ask.format, ask.expires_in_s)
    return FileUrlOut(url=signed.url, expires_at=signed.expires_at)


def _row(e: RecordError) -> dict[str, object]:
    return RecordErrorOut.of(e).model_dump(mode="json")


@router.get(
    "/v1/files/{tenant_id}/jobs/{job_id}/record-errors.{fmt}",
    openapi_extra=needs("public"),
    response_class=StreamingResponse,
    responses={403: {"description": "The signature, path or expiry do not hold."}},
    include_in_schema=True,
)
async def download_record_errors(
    tenant_id: str, job_id: str, fmt: Literal["ndjson", "csv"], request: Request, jy: App
) -> StreamingResponse:
    """The signed download: no API key; 403 when the signature, path or expiry do not hold."""
    errors = await jy.record_errors.download(tenant_id, job_id, fmt, dict(request.query_params))

    async def ndjson() -> AsyncIterator[bytes]:
        async for e in errors:
            yield orjson.dumps(_row(e)) + b"\n"

    async def as_csv() -> AsyncIterator[bytes]:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        async for e in errors:
            row = _row(e)
            row["data"] = orjson.dumps(row["data"]).decode()
            writer.writerow(row)
            if buf.tell() > 64 * 1024:
                yield buf.getvalue().encode()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue().encode()

    media = "application/x-ndjson" if fmt == "ndjson" else "text/csv; charset=utf-8"
    return StreamingResponse(
        ndjson() if fmt == "ndjson" else as_csv(),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="job-{job_id}-record-errors.{fmt}"'},
    )


@router.api_route(
    "/v1/files/{tenant_id}/jobs/{job_id}/record-errors.{fmt}",
    methods=["POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def refuse_other_methods(
    tenant_id: str, job_id: str, fmt: str, request: Request, jy: App
) -> Response:
    """A signed URL is good for the method it was signed for only: anything else is 403."""
    await jy.record_errors.check_signature(
        tenant_id, job_id, fmt, request.method, dict(request.query_params)
    )
    return Response(status_code=403)  # not reached: no URL is signed for these methods


@router.get(
    "/v1/jobs/{job_id}/error",
    openapi_extra=needs(Op.JOB_READ),
    response_model=PrimaryError,
    responses={204: {"description": "The job has no error."}},
)
async def primary_error(job_id: str, jy: App, caller: Caller) -> PrimaryError | Response:
    """The job's primary error; 204 when it has none."""
    job = await jy.jobs.get(caller, job_id)
    if not job.error:
        return Response(status_code=204)
    return PrimaryError(
        code=job.error.get("code"),
        message=job.error.get("message"),
        details=job.error.get("details"),
        at=job.completed_at or job.updated_at,
    )
