"""Every error leaves as `{"error": {"code", "message", ...}}`.

Each exception class is mapped to its HTTP status here, once.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from jobyard.api import openapi_doc
from jobyard.api.schemas.executions import ExecutionOut
from jobyard.api.schemas.jobs import JobOut
from jobyard.domain.entities import Execution, Job
from jobyard.domain.errors import (
    AwsAuthError,
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidQuery,
    JobyardError,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServerKeyError,
    Unauthenticated,
)

log = logging.getLogger(__name__)

STATUS: list[tuple[type[JobyardError], int]] = [
    (InvalidQuery, 400),
    (InvalidInput, 422),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PayloadTooLarge, 413),
    (RateLimited, 429),
    (ServerKeyError, 500),
]

HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def _encodable(value: Any) -> Any:
    """An error may quote what the client sent (a field name, an id); lone surrogates in it
    would make the answer itself unencodable, so they become "?"."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(v) for v in value]
    return value


def error_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    body = _encodable({"error": {"code": code, "message": message, **extra}})
    return JSONResponse(body, status_code=status, headers=headers)


def _detail(value: Any) -> Any:
    if isinstance(value, Job):
        return JobOut.of(value).model_dump(mode="json")
    if isinstance(value, Execution):
        return ExecutionOut.of(value).model_dump(mode="json")
    return value


def status_of(exc: JobyardError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


async def _jobyard_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, JobyardError)
    if isinstance(exc, ServerKeyError):  # the operator's to fix: say so in the server's log
        log.error("server key: %s", exc.message)
    details = {k: _detail(v) for k, v in exc.details.items()}
    response = error_response(status_of(exc), exc.code, exc.message, **details)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


async def _aws_auth_error(_request: Request, exc: Exception) -> JSONResponse:
    """A refused AWS Signature V4 request, answered as AWS answers it, for AWS's clients."""
    assert isinstance(exc, AwsAuthError)
    headers = {"x-amzn-ErrorType": exc.aws_code}
    return JSONResponse({"message": _encodable(exc.message)}, status_code=403, headers=headers)


def _field(error: Any) -> tuple[str, str]:
    """Where a validation error sits (`body`, `query`, `path`, `header`) and the field it names."""
    where, *rest = [str(p) for p in error.get("loc", ())] or ["body"]
    return where, ".".join(rest) or where


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """Bodies that fail validation are 422; query strings 400, as `InvalidQuery` is; a path that
    is not an id or number names nothing, so 404."""
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(400, "invalid_json", "the request body is not valid JSON")
    located = [(*_field(e), str(e.get("msg", "invalid"))) for e in errors]
    if all(where == "path" for where, _, _ in located):
        return error_response(404, "not_found", "no such object")
    fields = [{"field": field, "message": msg} for _, field, msg in located]
    first = fields[0] if fields else {"field": "body", "message": "invalid"}
    message = f"{first['field']}: {first['message']}"
    if any(where == "query" for where, _, _ in located):
        return error_response(400, "invalid_query", message, field=first["field"], errors=fields)
    return error_response(422, "invalid_input", message, field=first["field"], errors=fields)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    response = error_response(exc.status_code, code, message)
    response.headers.update(exc.headers or {})
    if exc.status_code == 405:  # `Allow`, as RFC 9110 asks: every documented method of the path
        allowed = openapi_doc.allowed_methods(request.app.openapi(), request.url.path)
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
    return response


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error", exc_info=exc)
    return error_response(500, "internal", "the server could not complete the request")


def install(app: FastAPI) -> None:
    app.add_exception_handler(JobyardError, _jobyard_error)
    app.add_exception_handler(AwsAuthError, _aws_auth_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
