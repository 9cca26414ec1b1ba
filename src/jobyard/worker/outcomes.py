"""How a handler's return or exception becomes the execution's final report."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any

MAX_TRACEBACK = 16_000


class Reject(Exception):
    """Raise in a handler to end the job `rejected`: the input is wrong and retrying cannot help."""

    def __init__(self, message: str = "rejected", code: str = "rejected") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # succeeded | failed | rejected | canceled
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


def from_return(value: Any) -> Outcome:
    """A dict is the result as it is; any other value is wrapped as `{"value": ...}`."""
    if value is None:
        return Outcome("succeeded")
    if isinstance(value, dict):
        return Outcome("succeeded", result=value)
    return Outcome("succeeded", result={"value": value})


def from_exception(exc: BaseException) -> Outcome:
    if isinstance(exc, Reject):
        return Outcome("rejected", error={"code": exc.code, "message": str(exc)})
    tb = "".join(traceback.format_exception(exc))[-MAX_TRACEBACK:]
    return Outcome(
        "failed",
        error={
            "code": type(exc).__name__,
            "message": str(exc) or type(exc).__name__,
            "details": {
                "type": f"{type(exc).__module__}.{type(exc).__qualname__}",
                "traceback": tb,
            },
        },
    )


def cancelled(reason: str = "the job was canceled") -> Outcome:
    return Outcome("canceled", error={"code": "canceled", "message": reason})
