"""Errors the SDK raises. Each carries the server's error `code`, `message` and full body.

JobyardClientError
├── ConnectionFailed        the server could not be reached (after retries)
└── ApiError                the server answered with an error
    ├── ValidationError       400, 413, 422
    ├── AuthenticationError   401
    ├── ForbiddenError        403
    ├── NotFoundError         404
    ├── ConflictError         409 (the current state is in `body`)
    └── RateLimitedError      429 (after retries)
"""

from __future__ import annotations

from typing import Any


class JobyardClientError(Exception):
    """Something went wrong talking to Jobyard."""


class ConnectionFailed(JobyardClientError):
    """The server could not be reached."""


class ApiError(JobyardClientError):
    """The server answered with an error."""

    def __init__(self, status_code: int, code: str, message: str, body: dict[str, Any]) -> None:
        super().__init__(f"{status_code} {code}: {message}")
        self.status_code = status_code
        self.code = code
        self.message = message
        self.body = body

    @property
    def details(self) -> dict[str, Any]:
        """The error object's extra fields (e.g. `execution` on a 409)."""
        err = self.body.get("error", {})
        return {k: v for k, v in err.items() if k not in {"code", "message"}}


class ValidationError(ApiError):
    """The request was refused as invalid."""


class AuthenticationError(ApiError):
    """The API key is missing, unknown, revoked or expired."""


class ForbiddenError(ApiError):
    """The API key's role does not allow this."""


class NotFoundError(ApiError):
    """No such object (or another tenant's)."""


class ConflictError(ApiError):
    """The object's state does not allow this: stale version, terminal execution, lost lease."""


class RateLimitedError(ApiError):
    """Too many requests."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    413: ValidationError,
    422: ValidationError,
    429: RateLimitedError,
}


def error_from(status_code: int, body: Any) -> ApiError:
    if not isinstance(body, dict):
        body = {}
    err = body.get("error") if isinstance(body.get("error"), dict) else {}
    code = str(err.get("code", "error"))
    message = str(err.get("message", f"HTTP {status_code}"))
    return _BY_STATUS.get(status_code, ApiError)(status_code, code, message, body)
