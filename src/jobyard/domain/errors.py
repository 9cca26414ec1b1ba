"""The exception tree. Every error Jobyard raises on purpose descends from `JobyardError`.

    JobyardError
    ├── InvalidInput          422  a request that names a field wrongly or breaks a rule
    │   └── InvalidQuery      400  a list filter or cursor that cannot be understood
    ├── Unauthenticated       401  no key, or a key that is unknown, revoked or expired
    ├── Forbidden             403  a known key whose role does not allow the operation
    │   └── AwsAuthError           an AWS Signature V4 request refused (answered in AWS's shape)
    ├── NotFound              404  missing, or another tenant's (the two look the same)
    ├── Conflict              409  a stale version, a terminal execution, a fenced worker ...
    │   └── IdempotencyConflict    the same idempotency key with another body
    ├── PayloadTooLarge       413  a batch or body over its limit
    ├── RateLimited           429  over a rate or concurrency limit; says when to try again
    └── ServerKeyError        500  the server key is malformed, or not the one secrets were sealed
                                   under (a server misconfigured, never a client's fault)

Each class's docstring is its default message; the HTTP layer maps each class once.
"""

from __future__ import annotations

import math
from typing import Any


class JobyardError(Exception):
    """Something went wrong in Jobyard."""

    code = "error"

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or (self.__doc__ or self.code).strip()
        self.details = details
        super().__init__(self.message)


class InvalidInput(JobyardError):
    """The request is not valid."""

    code = "invalid_input"


class InvalidQuery(InvalidInput):
    """The query parameters are not valid."""

    code = "invalid_query"


class Unauthenticated(JobyardError):
    """A valid API key is required."""

    code = "unauthenticated"


class Forbidden(JobyardError):
    """This key may not do that."""

    code = "forbidden"


class NotFound(JobyardError):
    """No such object."""

    code = "not_found"


class Conflict(JobyardError):
    """The object is not in a state that allows this."""

    code = "conflict"


class IdempotencyConflict(Conflict):
    """This idempotency key was already used with a different request."""

    code = "idempotency_conflict"


class PayloadTooLarge(JobyardError):
    """The request is too large."""

    code = "payload_too_large"


class AwsAuthError(Forbidden):
    """The request signature does not hold."""

    code = "aws_auth_refused"

    def __init__(self, aws_code: str, message: str) -> None:
        super().__init__(message)
        self.aws_code = aws_code  # e.g. InvalidSignatureException, sent as x-amzn-ErrorType


class ServerKeyError(JobyardError):
    """The server key does not open the stored secrets."""

    code = "server_key_mismatch"


class RateLimited(JobyardError):
    """Too many requests: try again later."""

    code = "rate_limited"

    def __init__(self, message: str | None = None, *, retry_after_s: float = 1, **details: Any):
        super().__init__(message, **details)
        self.retry_after_s = max(1, math.ceil(retry_after_s))  # whole seconds, as Retry-After
