"""`JobContext.step`: a step is reported started, then succeeded with its result, or failed
with the exception that ended it, which goes on up to the handler's caller."""

from __future__ import annotations

import threading
import time

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


def test_a_cancel_wakes_a_handler_thread_that_waits_for_it() -> None:
    ctx = context()
    woke: list[bool] = []
    waiter = threading.Thread(target=lambda: woke.append(ctx.wait_cancelled(30)))
    waiter.start()
    time.sleep(0.05)  # the thread is waiting (or about to): either way it must wake
    ctx.request_cancel()
    waiter.join(10)
    assert woke == [True]
    assert ctx.cancelled


def test_a_cancel_before_any_wait_is_seen_by_the_first_wait() -> None:
    ctx = context()
    assert not ctx.wait_cancelled(0)
    assert not ctx.cancelled
    fresh = context()
    fresh.request_cancel()
    assert fresh.cancelled
    assert fresh.wait_cancelled(30)  # at once, not after 30 s


def _wait_into(ctx: JobContext, results: list[bool]) -> None:
    results.append(ctx.wait_cancelled(10))


def test_cancels_and_waits_from_many_threads_never_lose_a_wake_up() -> None:
    for _ in range(200):
        ctx = context()
        results: list[bool] = []
        waiters = [threading.Thread(target=_wait_into, args=(ctx, results)) for _ in range(3)]
        for w in waiters:
            w.start()
        ctx.request_cancel()
        for w in waiters:
            w.join(15)
        assert results == [True, True, True]
