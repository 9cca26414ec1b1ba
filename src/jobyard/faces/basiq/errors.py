"""Errors in Basiq's shape: a list of error objects with a correlation id.

    {"type": "list", "correlationId": "...",
     "data": [{"type": "error", "code": "resource-not-found", "title": "...", "detail": "...",
               "source": {"parameter": "filter"}}]}

Basiq answers a bad request body or query with 400 (not 422), and a key refused by `POST /token`
with 404 ("Unable to authenticate"); the rest follow the core's statuses.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from jobyard.api.errors import status_of
from jobyard.domain.errors import (
    InvalidInput,
    JobyardError,
    NotFound,
    RateLimited,
    ServerKeyError,
)
from jobyard.faces.routing import FaceError

log = logging.getLogger(__name__)

# status -> (code, title), as Basiq names them
CODES: dict[int, tuple[str, str]] = {
    400: ("parameter-not-valid", "Parameter value is not valid"),
    401: ("unauthorized-access", "Unauthorized Access"),
    403: ("forbidden-access", "Forbidden Access"),
    404: ("resource-not-found", "Requested resource is not found."),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-content-type", "Content type is not supported"),
    429: ("too-many-requests", "Too many requests"),
    500: ("internal-server-error", "Internal Server Error"),
}


class BasiqError(InvalidInput):
    """A request Basiq refuses with its own code (a missing or malformed parameter)."""

    def __init__(
        self,
        detail: str,
        *,
        code: str = "parameter-not-valid",
        title: str = "Parameter value is not valid",
        status: int = 400,
        pointer: str | None = None,
        parameter: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.basiq_code = code
        self.title = title
        self.status = status
        self.source = {
            k: v for k, v in (("pointer", pointer), ("parameter", parameter)) if v is not None
        }


def missing(detail: str, *, pointer: str | None = None, parameter: str | None = None) -> BasiqError:
    return BasiqError(
        detail,
        code="parameter-not-supplied",
        title="Required parameter not supplied",
        pointer=pointer,
        parameter=parameter,
    )


class TokenRefused(NotFound):
    """Unable to authenticate. Please, check your API key."""


def _safe(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


def error_body(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    title: str | None = None,
    source: dict[str, str] | None = None,
) -> dict[str, Any]:
    default_code, default_title = CODES.get(status, CODES[400])
    item: dict[str, Any] = {
        "type": "error",
        "code": code or default_code,
        "title": title or default_title,
        "detail": _safe(detail),
    }
    if source:
        item["source"] = {k: _safe(v) for k, v in source.items()}
    return {"type": "list", "correlationId": str(uuid.uuid4()), "data": [item]}


def error_response(status: int, detail: str, **fields: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(error_body(status, detail, **fields), status_code=status, headers=headers)


def _validation(exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(
            400,
            "The request body is not valid JSON.",
            code="invalid-content",
            title="Content is not valid",
        )
    located = [[str(p) for p in e.get("loc", ())] for e in errors]
    if located and all(loc[:1] == ["path"] for loc in located):
        return error_response(404, "Requested resource is not found.")
    first = errors[0] if errors else {}
    where = located[0] if located else ["body"]
    name = ".".join(where[1:]) or where[0]
    source = {"parameter": name} if where[:1] == ["query"] else {"pointer": "/".join(where[1:])}
    return error_response(400, f"{name}: {first.get('msg', 'invalid')}", source=source)


def render(_request: Request, exc: FaceError) -> Response:
    if isinstance(exc, RequestValidationError):
        return _validation(exc)
    if isinstance(exc, HTTPException):
        status = exc.status_code if exc.status_code in CODES else 400
        detail = exc.detail if isinstance(exc.detail, str) else CODES[status][1]
        response = error_response(status, detail)
        response.headers.update(exc.headers or {})
        return response
    if isinstance(exc, BasiqError):
        return error_response(
            exc.status, exc.message, code=exc.basiq_code, title=exc.title, source=exc.source
        )
    return _core_error(exc)


def _core_error(exc: JobyardError) -> Response:
    status = status_of(exc)
    if isinstance(exc, InvalidInput):  # Basiq answers any bad parameter with 400
        status = 400
    if isinstance(exc, ServerKeyError):
        log.error("server key: %s", exc.message)
    field = exc.details.get("field")
    source = {"parameter": str(field)} if isinstance(field, str) else None
    response = error_response(status, exc.message, source=source)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    return response
