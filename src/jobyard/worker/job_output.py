"""What a handler reports while it runs: log lines, record errors, steps, progress and counters,
buffered until the worker's next update of the execution carries them.

Handlers may write from threads (sync handlers) or tasks (async ones), so the buffer takes a
lock. The handler's own `logging` output lands here too: a logging handler looks up which job
the calling code runs for through a context variable the runtime sets around each handler.

Everything is taken in pieces an update can carry (`take`): at most 1,000 lines and 1,000 record
errors, and about half a MiB of their text, so that no update is refused for its size. Lines are
made what the server keeps before they are buffered (cut at 64 KiB with a marker, no NUL), and
record errors plain text and JSON, so that one bad line cannot make a batch of updates invalid.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

current_output: contextvars.ContextVar[JobOutput | None] = contextvars.ContextVar(
    "jobyard_job_output", default=None
)

SOURCES = frozenset({"stdout", "stderr", "system"})
_STARTS_OR_ENDS = frozenset({"in_progress", "succeeded", "failed", "skipped"})
MAX_LINE_BYTES = 64 * 1024
TRUNCATED = " [... line truncated: {} more bytes]"
MAX_UPDATE_LINES = 1000  # the server's bounds for one update
MAX_UPDATE_ERRORS = 1000
MAX_UPDATE_BYTES = 512 * 1024  # text of the lines and records in one update, about
ENTRY_BYTES = 64  # what a line or record error adds to a request besides its text
# The fields of an update `take` makes, in the shapes `client.models.ExecutionUpdate` names.
OUTPUT_FIELDS = ("steps", "progress", "counters", "pid", "logs", "record_errors")


def clean_line(data: str) -> tuple[str, int]:
    """The line as the server keeps it, and its size in bytes: NUL characters (which no
    database keeps) and lone surrogates replaced, and a line over 64 KiB cut so that it keeps
    as much as fits with a marker saying how much was cut."""
    if "\x00" in data:
        data = data.replace("\x00", "\ufffd")
    if data.isascii():
        if len(data) <= MAX_LINE_BYTES:
            return data, len(data)
        raw = data.encode()
    else:
        try:
            raw = data.encode()
        except UnicodeEncodeError:
            raw = data.encode("utf-8", "replace")
            data = raw.decode()
        if len(raw) <= MAX_LINE_BYTES:
            return data, len(raw)
    room = MAX_LINE_BYTES - len(TRUNCATED.format(len(raw)))
    head = raw[:room].decode("utf-8", "ignore")
    line = head + TRUNCATED.format(len(raw) - len(head.encode()))
    return line, len(line.encode())


def plain_text(value: str, most: int) -> str:
    """Text as the server takes it in a record error: no NUL, no lone surrogate, at most `most`
    characters."""
    text = str(value)[:most].replace("\x00", "\ufffd")
    return text if text.isascii() else text.encode("utf-8", "replace").decode()


def plain_json(value: Any) -> tuple[Any, int]:
    """`value` as JSON values only, and the size of its JSON text: what JSON has no type for
    (a time, a decimal, a set) becomes text, and what cannot be written at all, its repr."""
    try:
        text = orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        text = orjson.dumps(repr(value))
    return orjson.loads(text), len(text)


def _fitting(sizes: list[int], most: int, room: int) -> tuple[int, int]:
    """How many entries from the front fit `most` and `room` bytes (at least one while `room`
    is whole), and their size."""
    if len(sizes) <= most and (whole := sum(sizes)) <= room:
        return len(sizes), whole  # most takes: all of them, told by one sum
    n = used = 0
    for size in sizes[:most]:
        if n and used + size > room:
            break
        n, used = n + 1, used + size
    return n, used


@dataclass
class JobOutput:
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    logs: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    progress: dict[str, Any] | None = None
    counters: dict[str, int] = field(default_factory=dict)
    pid: int | None = None  # a command's pid, to report once
    returned: bool = False  # the handler is over: its end carries whatever is left
    _log_sizes: list[int] = field(default_factory=list, repr=False)
    _error_sizes: list[int] = field(default_factory=list, repr=False)

    def step(self, report: dict[str, Any]) -> None:
        """Buffer a step report. A bare `in_progress` report still unsent, just before another
        report of the same step that starts or ends it, is left out: the server stamps both
        with the same update's time, so the step comes out the same, and a quick step costs
        one report instead of two."""
        with self._lock:
            steps = self.steps
            if (
                steps
                and len(last := steps[-1]) == 2  # {"name", "status"} and nothing more
                and last.get("status") == "in_progress"
                and last.get("name") == report["name"]
                and report.get("status") in _STARTS_OR_ENDS
            ):
                steps[-1] = report
            else:
                steps.append(report)

    def set_progress(self, progress: dict[str, Any]) -> None:
        with self._lock:
            self.progress = progress

    def count(self, increments: dict[str, int]) -> None:
        with self._lock:
            for name, n in increments.items():
                self.counters[name] = self.counters.get(name, 0) + n

    def log(self, data: str, source: str = "stdout") -> None:
        if type(data) is not str:
            data = str(data)
        if data.isascii() and len(data) <= MAX_LINE_BYTES and "\x00" not in data:
            line, size = data, len(data)  # most lines: already as the server keeps them
        else:
            line, size = clean_line(data)
        # Sent as the server reads it: the source only when not stdout, the time as text.
        entry: dict[str, Any]
        if source == "stdout":
            entry = {"data": line, "ts": datetime.now(UTC)}
        elif source in SOURCES:
            entry = {"data": line, "ts": datetime.now(UTC), "source": source}
        else:
            raise ValueError("source must be one of " + ", ".join(sorted(SOURCES)))
        with self._lock:
            self.logs.append(entry)
            self._log_sizes.append(size + ENTRY_BYTES)

    def record_error(
        self,
        message: str,
        *,
        code: str | None = None,
        source: str | None = None,
        data: Any = None,
        retriable: bool = False,
    ) -> None:
        record, size = plain_json(data)
        text = plain_text(message, 10_000)
        error = {"message": text, "retriable": bool(retriable), "data": record}
        if code is not None:
            error["code"] = plain_text(code, 200)
        if source is not None:
            error["source"] = plain_text(source, 200)
        size += len(text) + ENTRY_BYTES
        with self._lock:
            self.errors.append(error)
            self._error_sizes.append(size)

    def handler_returned(self) -> None:
        with self._lock:
            self.returned = True

    def pending(self) -> bool:
        """Whether anything waits to be sent on its own, ahead of the end: never once the
        handler returned, so that its last lines travel with its completion."""
        with self._lock:
            if self.returned:
                return False
            return bool(self.logs or self.errors or self.steps or self.counters) or (
                self.progress,
                self.pid,
            ) != (None, None)

    def take(self) -> list[tuple[dict[str, Any], int]]:
        """Everything not sent yet, as the fields of as few updates as can carry it, in order,
        each with the size of its lines and records: steps, progress, counters and a command's
        pid on the first. Empty when there is nothing."""
        with self._lock:
            first: dict[str, Any] = {}
            if self.steps:
                first["steps"], self.steps = self.steps, []
            if self.progress is not None:
                first["progress"], self.progress = self.progress, None
            if self.counters:
                first["counters"], self.counters = self.counters, {}
            if self.pid is not None:
                first["pid"], self.pid = self.pid, None
            pieces: list[tuple[dict[str, Any], int]] = []
            fields = first
            while self.logs or self.errors or fields:
                lines, used = _fitting(self._log_sizes, MAX_UPDATE_LINES, MAX_UPDATE_BYTES)
                if lines:
                    fields["logs"], self.logs = self.logs[:lines], self.logs[lines:]
                    del self._log_sizes[:lines]
                room = MAX_UPDATE_BYTES - used if lines else MAX_UPDATE_BYTES
                errors, size = _fitting(self._error_sizes, MAX_UPDATE_ERRORS, room)
                if errors and (lines == 0 or used + size <= MAX_UPDATE_BYTES):
                    fields["record_errors"], self.errors = (
                        self.errors[:errors],
                        self.errors[errors:],
                    )
                    del self._error_sizes[:errors]
                    used += size
                pieces.append((fields, used))
                fields = {}
            return pieces


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
