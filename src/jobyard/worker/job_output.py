"""What a handler writes while it runs: log lines and record errors, buffered and sent in batches.

Handlers may write from threads (sync handlers) or tasks (async ones), so the buffer takes a
lock. The handler's own `logging` output lands here too: a logging handler looks up which job
the calling code runs for through a context variable the runtime sets around each handler.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

current_output: contextvars.ContextVar[JobOutput | None] = contextvars.ContextVar(
    "jobyard_job_output", default=None
)


@dataclass
class JobOutput:
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    logs: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    progress: dict[str, Any] | None = None
    counters: dict[str, int] = field(default_factory=dict)
    pid: int | None = None  # a command's pid, to report once

    def step(self, report: dict[str, Any]) -> None:
        with self._lock:
            self.steps.append(report)

    def set_progress(self, progress: dict[str, Any]) -> None:
        with self._lock:
            self.progress = progress

    def count(self, increments: dict[str, int]) -> None:
        with self._lock:
            for name, n in increments.items():
                self.counters[name] = self.counters.get(name, 0) + n

    def take_follow(self) -> dict[str, Any]:
        """Steps, progress and counters not sent yet, as update fields (empty when none)."""
        with self._lock:
            fields: dict[str, Any] = {}
            if self.steps:
                fields["steps"], self.steps = self.steps, []
            if self.progress is not None:
                fields["progress"], self.progress = self.progress, None
            if self.counters:
                fields["counters"], self.counters = self.counters, {}
            if self.pid is not None:
                fields["pid"], self.pid = self.pid, None
            return fields

    def has_follow(self) -> bool:
        with self._lock:
            return bool(self.steps or self.counters) or (self.progress, self.pid) != (None, None)

    def log(self, data: str, source: str = "stdout") -> None:
        entry = {"source": source, "data": data, "ts": datetime.now(UTC).isoformat()}
        with self._lock:
            self.logs.append(entry)

    def record_error(
        self,
        message: str,
        *,
        code: str | None = None,
        source: str | None = None,
        data: Any = None,
        retriable: bool = False,
    ) -> None:
        error = {"message": message, "retriable": retriable, "data": data}
        if code is not None:
            error["code"] = code
        if source is not None:
            error["source"] = source
        with self._lock:
            self.errors.append(error)

    def pending(self) -> int:
        with self._lock:
            return len(self.logs) + len(self.errors)

    def take(
        self, max_logs: int, max_errors: int
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        with self._lock:
            logs, self.logs = self.logs[:max_logs], self.logs[max_logs:]
            errors, self.errors = self.errors[:max_errors], self.errors[max_errors:]
        return logs, errors

    def put_back(self, logs: list[dict[str, Any]], errors: list[dict[str, Any]]) -> None:
        """Undo a `take` whose send failed, keeping the order."""
        with self._lock:
            self.logs[:0] = logs
            self.errors[:0] = errors


class CaptureHandler(logging.Handler):
    """Sends log records emitted while a handler runs to that job's log."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        output = current_output.get()
        if output is None:
            return
        try:
            text = self.format(record)
        except Exception:  # a broken log call must not break the job
            self.handleError(record)
            return
        output.log(text, "stderr" if record.levelno >= logging.WARNING else "stdout")
