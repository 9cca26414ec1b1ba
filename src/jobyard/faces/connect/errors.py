"""Errors as Posit Connect sends them: `{"code": <int>, "error": "<message>", "payload": null}`.

Connect numbers its errors; the numbers below are the ones of its public API reference whose
meaning fits each core error. Its official client reads `code`, `error` and `payload`.
"""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from jobyard.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    JobyardError,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthenticated,
)
from jobyard.faces.routing import FaceError

INTERNAL = 1  # An internal failure occurred.
NO_ENDPOINT = 2  # The requested method or endpoint is not supported.
NO_OBJECT = 4  # The requested object does not exist.
NO_PERMISSION = 22  # You don't have permission to perform this operation.
UNAUTHENTICATED = 24  # The requested operation requires authentication.
BAD_PARAMETER = 25  # The parameter is invalid.
NOT_ACTIVE = 163  # The specified job cannot be terminated because it is not active.

# (core error, HTTP status, Connect code); the first match wins, so subclasses come first.
_TABLE: list[tuple[type[JobyardError], int, int]] = [
    (InvalidInput, 400, BAD_PARAMETER),
    (Unauthenticated, 401, UNAUTHENTICATED),
    (Forbidden, 403, NO_PERMISSION),
    (NotFound, 404, NO_OBJECT),
    (Conflict, 409, NOT_ACTIVE),
    (PayloadTooLarge, 413, BAD_PARAMETER),
    (RateLimited, 429, INTERNAL),
]

_HTTP = {400: BAD_PARAMETER, 401: UNAUTHENTICATED, 403: NO_PERMISSION, 404: NO_ENDPOINT}


def connect_error(status: int, code: int, message: str) -> JSONResponse:
    """One error answer; its body never carries more than Connect's three fields."""
    clean = message.encode("utf-8", "replace").decode("utf-8")
    return JSONResponse({"code": code, "error": clean, "payload": None}, status_code=status)


def _validation_message(exc: RequestValidationError) -> str:
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "path"))
        return f"The parameter is invalid: {where}: {err.get('msg', 'invalid')}"
    return "The parameter is invalid."


def render(request: Request, exc: FaceError) -> Response:
    """Every error raised under the face's routes, in Connect's shape."""
    if isinstance(exc, RequestValidationError):
        return connect_error(400, BAD_PARAMETER, _validation_message(exc))
    if isinstance(exc, HTTPException):
        code = _HTTP.get(exc.status_code, INTERNAL if exc.status_code >= 500 else BAD_PARAMETER)
        return connect_error(exc.status_code, code, str(exc.detail))
    for kind, status, code in _TABLE:
        if isinstance(exc, kind):
            answer = connect_error(status, code, exc.message)
            if isinstance(exc, RateLimited):
                answer.headers["Retry-After"] = str(exc.retry_after_s)
            return answer
    return connect_error(500, INTERNAL, "An internal failure occurred.")
