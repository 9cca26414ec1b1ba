"""Jobyard: a self-hosted jobs service. Hand work to workers and follow every job while it runs.

The SDK is re-exported here (`jobyard.Client`, `jobyard.AsyncClient`, `jobyard.Worker`, ...)
and loaded on first use, so the server never imports the client side and vice versa.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from jobyard._version import __version__

_EXPORTS = {
    "Client": "jobyard.client",
    "AsyncClient": "jobyard.client",
    "JobSpec": "jobyard.client",
    "ApiError": "jobyard.client",
    "ConflictError": "jobyard.client",
    "NotFoundError": "jobyard.client",
    "Worker": "jobyard.worker",
    "JobContext": "jobyard.worker",
    "Reject": "jobyard.worker",
}

if TYPE_CHECKING:
    from jobyard.client import (
        ApiError,
        AsyncClient,
        Client,
        ConflictError,
        JobSpec,
        NotFoundError,
    )
    from jobyard.worker import JobContext, Reject, Worker

__all__ = [
    "ApiError",
    "AsyncClient",
    "Client",
    "ConflictError",
    "JobContext",
    "JobSpec",
    "NotFoundError",
    "Reject",
    "Worker",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'jobyard' has no attribute {name!r}")
    return getattr(import_module(module), name)
