"""`JobContext.step`: a step is reported started, then succeeded with its result, or failed
with the exception that ended it, which goes on up to the handler's caller."""

from __future__ import annotations

import pytest

from jobyard.client.models import ClaimedExecution
from jobyard.worker.context import JobContext

CLAIM = {
    "job_id": "00000000-0000-7000-8000-000000000001",
    "execution_number": 1,
    "type": "t",
    "queue": "q",
    "priority": 0,
    "params": {},
    "document": None,
    "version": 1,
    "lease_s": 300,
    "lease_expires_at": "2026-01-01T00:00:00Z",
}


def context() -> JobContext:
    return JobContext(ClaimedExecution.model_validate(CLAIM))


def test_a_step_that_returns_succeeds_with_its_result() -> None:
    ctx = context()
    with ctx.step("load") as step:
        assert ctx.output.steps == [{"name": "load", "status": "in_progress"}]
        step.result = {"type": "link", "url": "https://example.com/load"}
    with ctx.step("save"):
        pass
    assert ctx.output.steps == [
        {"name": "load", "status": "succeeded", "result": step.result},
        {"name": "save", "status": "succeeded"},
    ]


def test_a_step_that_raises_fails_and_the_exception_goes_on() -> None:
    ctx = context()
    with pytest.raises(ValueError, match="no such file"), ctx.step("read"):
        raise ValueError("no such file")
    with pytest.raises(KeyboardInterrupt), ctx.step("wait"):
        raise KeyboardInterrupt
    assert ctx.output.steps == [
        {
            "name": "read",
            "status": "failed",
            "error": {"code": "ValueError", "title": "no such file"},
        },
        {
            "name": "wait",
            "status": "failed",
            "error": {"code": "KeyboardInterrupt", "title": "KeyboardInterrupt"},
        },
    ]
