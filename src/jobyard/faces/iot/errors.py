"""Errors as AWS answers them: the code in the `x-amzn-ErrorType` header, `{"message"}` in the
body (AWS's clients read the code from that header)."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from jobyard.domain.entities import Execution
from jobyard.domain.errors import (
    AwsAuthError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthenticated,
)
from jobyard.faces.iot.wire import execution_state
from jobyard.faces.routing import FaceError

INVALID = "InvalidRequestException"
CREATED_NAMES = frozenset({"jobId", "thingName", "thingGroupName"})  # a taken name


def aws_error(
    status: int, code: str, message: str, extra: dict[str, Any] | None = None
) -> JSONResponse:
    body = {"message": message.encode("utf-8", "replace").decode("utf-8"), **(extra or {})}
    return JSONResponse(body, status_code=status, headers={"x-amzn-ErrorType": code})


def _conflict(exc: Conflict) -> Response:
    reason = exc.details.get("reason")
    if exc.details.get("field") in CREATED_NAMES:
        return aws_error(409, "ResourceAlreadyExistsException", exc.message)
    if reason == "terminal_state":
        return aws_error(410, "TerminalStateException", exc.message)
    if reason == "version_mismatch":
        execution = exc.details.get("execution")
        extra = {"executionState": execution_state(execution)} if execution else None
        if isinstance(execution, Execution):
            return aws_error(409, "VersionConflictException", exc.message, extra)
        return aws_error(409, "VersionConflictException", exc.message)
    return aws_error(409, "InvalidStateTransitionException", exc.message)


def _validation(exc: RequestValidationError) -> Response:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return aws_error(400, INVALID, "the request body is not valid JSON")
    first = errors[0] if errors else {}
    field = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
    return aws_error(400, INVALID, f"{field}: {first.get('msg', 'invalid')}")


def render(_request: Request, exc: FaceError) -> Response:
    if isinstance(exc, RequestValidationError):
        return _validation(exc)
    if isinstance(exc, HTTPException):
        code = "ResourceNotFoundException" if exc.status_code == 404 else INVALID
        return aws_error(exc.status_code, code, str(exc.detail))
    if isinstance(exc, AwsAuthError):
        return aws_error(403, exc.aws_code, exc.message)
    if isinstance(exc, Unauthenticated):
        return aws_error(403, "UnrecognizedClientException", exc.message)
    if isinstance(exc, Forbidden):
        return aws_error(403, "AccessDeniedException", exc.message)
    if isinstance(exc, NotFound):
        return aws_error(404, "ResourceNotFoundException", exc.message)
    if isinstance(exc, Conflict):
        return _conflict(exc)
    if isinstance(exc, RateLimited):
        response = aws_error(429, "ThrottlingException", exc.message)
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    if isinstance(exc, PayloadTooLarge):
        return aws_error(413, "LimitExceededException", exc.message)
    if isinstance(exc, InvalidInput):
        return aws_error(400, INVALID, exc.message)
    return aws_error(500, "InternalFailureException", "the request could not be completed")
