"""The Python SDK: `Client` (sync) and `AsyncClient` over Jobyard's HTTP API.

It shares no code with the server: a worker across the world needs only this package.
"""

from jobyard.client.async_client import AsyncClient
from jobyard.client.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    ConnectionFailed,
    ForbiddenError,
    JobyardClientError,
    NotFoundError,
    RateLimitedError,
    ValidationError,
)
from jobyard.client.models import (
    BatchResult,
    ClaimedExecution,
    Execution,
    ExecutionUpdate,
    Job,
    JobSpec,
    Page,
)
from jobyard.client.sync_client import Client

__all__ = [
    "ApiError",
    "AsyncClient",
    "AuthenticationError",
    "BatchResult",
    "ClaimedExecution",
    "Client",
    "ConflictError",
    "ConnectionFailed",
    "Execution",
    "ExecutionUpdate",
    "ForbiddenError",
    "Job",
    "JobSpec",
    "JobyardClientError",
    "NotFoundError",
    "Page",
    "RateLimitedError",
    "ValidationError",
]
