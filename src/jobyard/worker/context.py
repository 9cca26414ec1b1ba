"""What a handler gets: the job's input, and a way to learn that it should stop."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from jobyard.client.models import ClaimedExecution
from jobyard.worker.job_output import JobOutput


class StepHandle:
    """The step a `with ctx.step(...) as step:` block runs: reported in_progress on entry, then
    succeeded (with `step.result` if set, e.g. a link) or failed with the exception, which goes
    on up. One slotted object is both the block and the handle: a handler may take thousands
    of steps, and a generator context manager costs three times as much."""

    __slots__ = ("_output", "name", "result")

    def __init__(self, output: JobOutput, name: str) -> None:
        self._output = output
        self.name = name
        self.result: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"StepHandle(name={self.name!r}, result={self.result!r})"

    def __enter__(self) -> StepHandle:
        self._output.step({"name": self.name, "status": "in_progress"})
        return self

    def __exit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is not None:
            error = {"code": type(exc).__name__, "title": str(exc) or type(exc).__name__}
            self._output.step({"name": self.name, "status": "failed", "error": error})
            return  # the exception goes on up
        if self.result is None:
            self._output.step({"name": self.name, "status": "succeeded"})
        else:
            self._output.step({"name": self.name, "status": "succeeded", "result": self.result})


# Guards the making of a context's event (a lock a job would cost as much as the event).
_EVENT_LOCK = threading.Lock()


@dataclass
class JobContext:
    """One execution in the hands of a handler.

    `cancelled` turns true when a kill order arrives or the lease is lost. Async handlers are
    also cancelled as tasks; a sync handler, which Python cannot interrupt, should look at
    `cancelled` between steps of its work and return early.
    """

    claim: ClaimedExecution
    _cancelled: bool = field(default=False, repr=False)
    # made only when a sync handler first waits on it (most jobs never do: see `wait_cancelled`)
    _cancel_event: threading.Event | None = field(default=None, repr=False)
    lease_lost: bool = False
    settled: bool = False  # its final report is on its way; heartbeats stop
    output: JobOutput = field(default_factory=JobOutput, repr=False)
    exit_code: int | None = None  # set by the process runner
    process_id: int | None = None  # the command's pid, when the process runner runs one
    # set on the worker's loop with the kill order, for the runtime's own waiting
    cancelled_event: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    # the answer to the runtime's last report of its output, while it is awaited
    reporting: asyncio.Future[Any] | None = field(default=None, repr=False)

    @property
    def job_id(self) -> str:
        return self.claim.job_id

    @property
    def execution_number(self) -> int:
        return self.claim.execution_number

    @property
    def type(self) -> str:
        return self.claim.type

    @property
    def params(self) -> dict[str, Any]:
        return self.claim.params

    @property
    def document(self) -> dict[str, Any] | None:
        return self.claim.document

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def wait_cancelled(self, timeout: float | None = None) -> bool:
        """Sleep up to `timeout` seconds, waking early on cancellation; True when cancelled."""
        with _EVENT_LOCK:
            if self._cancel_event is None:
                self._cancel_event = threading.Event()
            event = self._cancel_event
        # `request_cancel` sets the flag before it looks for the event: one of the two sees
        # the other's work.
        if self._cancelled:
            return True
        return event.wait(timeout)

    def request_cancel(self) -> None:
        self._cancelled = True
        with _EVENT_LOCK:
            event = self._cancel_event
        if event is not None:
            event.set()

    def log(self, message: str, *, source: str = "stdout") -> None:
        """Add a line to the job's log (sent in batches; `logging` output is captured too)."""
        self.output.log(message, source)

    def step(self, name: str) -> StepHandle:
        """`with ctx.step("load") as step:` marks the step in_progress, then succeeded (with
        `step.result` if set), or failed with the exception (which goes on up)."""
        return StepHandle(self.output, name)

    def skip_step(self, name: str) -> None:
        self.output.step({"name": name, "status": "skipped"})

    def progress(
        self, current: float, total: float | None = None, message: str | None = None
    ) -> None:
        """The job's progress (the latest report wins); sent with the next batch of updates."""
        self.output.set_progress({"current": current, "total": total, "message": message})

    def count(
        self,
        *,
        success: int = 0,
        error: int = 0,
        ignore: int = 0,
        export: int = 0,
        pages: int = 0,
    ) -> None:
        """Add to the job's counters (num_success, num_error, ...)."""
        given = {
            "success": success,
            "error": error,
            "ignore": ignore,
            "export": export,
            "pages": pages,
        }
        self.output.count({f"num_{k}": v for k, v in given.items() if v})

    def record_error(
        self,
        message: str,
        *,
        code: str | None = None,
        source: str | None = None,
        data: Any = None,
        retriable: bool = False,
    ) -> None:
        """Report one record that could not be processed, with the record as `data`."""
        self.output.record_error(message, code=code, source=source, data=data, retriable=retriable)
