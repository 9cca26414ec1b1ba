"""Errors as integrator.io answers them: `{"errors": [{"code", "message", "field"?}]}`."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from jobyard.api.errors import HTTP_CODES, status_of
from jobyard.domain.errors import JobyardError, RateLimited, Unauthenticated
from jobyard.faces.routing import FaceError, face_route

# integrator.io's own words where they differ from the core's.
CODES = {"unauthenticated": "unauthorized", "invalid_input": "invalid_value"}


def _clean(value: str) -> str:
    """Errors may quote what the client sent; lone surrogates would make them unencodable."""
    return value.encode("utf-8", "replace").decode("utf-8")


def celigo_error(status: int, errors: list[dict[str, str]]) -> JSONResponse:
    body: dict[str, Any] = {"errors": [{k: _clean(v) for k, v in e.items()} for e in errors]}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def _entry(code: str, message: str, field: object = None) -> dict[str, str]:
    entry = {"code": CODES.get(code, code), "message": message}
    if isinstance(field, str) and field:
        entry["field"] = field
    return entry


def _validation(exc: RequestValidationError) -> Response:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return celigo_error(400, [_entry("invalid_json", "the request body is not valid JSON")])
    located = []
    for e in errors:
        where, *rest = [str(p) for p in e.get("loc", ())] or ["body"]
        located.append((where, ".".join(rest) or where, e))
    if all(where == "path" for where, _, _ in located):
        return celigo_error(404, [_entry("not_found", "Object not found")])
    if any(where == "query" for where, _, _ in located):
        entries = [_entry("invalid_query", str(e.get("msg")), f) for _, f, e in located]
        return celigo_error(400, entries)
    entries = [
        _entry(
            "missing_required_field" if e.get("type") == "missing" else "invalid_value",
            str(e.get("msg", "invalid")),
            f,
        )
        for _, f, e in located
    ]
    return celigo_error(422, entries)


def render(_request: Request, exc: FaceError) -> Response:
    if isinstance(exc, RequestValidationError):
        return _validation(exc)
    if isinstance(exc, HTTPException):
        code = HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        response = celigo_error(exc.status_code, [_entry(code, message)])
        response.headers.update(exc.headers or {})
        return response
    assert isinstance(exc, JobyardError)
    status = status_of(exc)
    response = celigo_error(status, [_entry(exc.code, exc.message, exc.details.get("field"))])
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    if isinstance(exc, Unauthenticated):
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


CeligoRoute = face_route(render)
