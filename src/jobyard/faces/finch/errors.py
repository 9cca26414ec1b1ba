"""Errors as Finch answers them: `{"code": <status>, "name", "finch_code", "message"}`.

`code` repeats the HTTP status, `name` is the broad category and `finch_code` the finer one (null
when Finch has none for the case), as Finch's error reference describes them.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from jobyard.api.errors import status_of
from jobyard.domain.errors import InvalidInput, JobyardError, RateLimited, Unauthenticated
from jobyard.faces.routing import FaceError, face_route

# status -> (name, finch_code)
NAMES: dict[int, tuple[str, str | None]] = {
    400: ("bad_request", "invalid_request"),
    401: ("invalid_token_error", None),
    403: ("insufficient_scope_error", None),
    404: ("not_found_error", "item_not_found"),
    405: ("method_not_allowed", None),
    409: ("conflict_error", None),
    413: ("payload_too_large", None),
    429: ("rate_limit_error", None),
    500: ("server_error", None),
}


def finch_error(
    status: int,
    message: str,
    *,
    name: str | None = None,
    finch_code: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    default_name, default_code = NAMES.get(status, ("bad_request", None))
    body = {
        "code": status,
        "name": name or default_name,
        "finch_code": finch_code or default_code,
        "message": message.encode("utf-8", "replace").decode("utf-8"),
        **(extra or {}),
    }
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "Failed to validate request."
    first = errors[0]
    where = [str(p) for p in first.get("loc", ())]
    field = ".".join(where[1:]) or (where[0] if where else "body")
    return f"{field}: {first.get('msg', 'invalid')}"


def render(request: Request, exc: FaceError) -> Response:
    if isinstance(exc, RequestValidationError):
        return finch_error(400, _validation_message(exc))  # Finch: "Failed to validate request"
    if isinstance(exc, JobyardError):
        # Finch answers every request it cannot validate with 400 `invalid_request`.
        status = 400 if isinstance(exc, InvalidInput) else status_of(exc)
        headers: dict[str, str] = {}
        name: str | None = None
        if isinstance(exc, Unauthenticated):
            headers["WWW-Authenticate"] = "Bearer"
            if not request.headers.get("authorization", "").strip():
                name = "unauthorized_request_error"  # Finch: the token is missing
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(exc.retry_after_s)
        return finch_error(status, exc.message, name=name, headers=headers or None)
    return finch_error(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}) or None)


FinchRoute = face_route(render)
