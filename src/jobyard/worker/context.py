"""What a handler gets: the job's input, and a way to learn that it should stop."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

from jobyard.client.models import ClaimedExecution
from jobyard.worker.job_output import JobOutput


@dataclass
class JobContext:
    """One execution in the hands of a handler.

    `cancelled` turns true when a kill order arrives or the lease is lost. Async handlers are
    also cancelled as tasks; a sync handler, which Python cannot interrupt, should look at
    `cancelled` between steps of its work and return early.
    """

    claim: ClaimedExecution
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    lease_lost: bool = False
    settled: bool = False  # its final report is on its way; heartbeats stop
    output: JobOutput = field(default_factory=JobOutput, repr=False)
    exit_code: int | None = None  # set by the process runner
    process_id: int | None = None  # the command's pid, when the process runner runs one
    # set on the worker's loop with the kill order, for the runtime's own waiting
    cancelled_event: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

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
        return self._cancel.is_set()

    def wait_cancelled(self, timeout: float | None = None) -> bool:
        """Sleep up to `timeout` seconds, waking early on cancellation; True when cancelled."""
        return self._cancel.wait(timeout)

    def request_cancel(self) -> None:
        self._cancel.set()

    def log(self, message: str, *, source: str = "stdout") -> None:
        """Add a line to the job's log (sent in batches; `logging` output is captured too)."""
        self.output.log(message, source)

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
