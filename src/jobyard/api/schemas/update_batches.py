"""A batch of execution updates as workers send it, read straight from the request's bytes.

`POST /v1/executions/batch` is the body the server reads most: every job's end comes in one.
Read as JSON into dictionaries and then checked by the models field by field, a plain end cost
the server 5 µs to read and a followed one (steps, progress, ten lines) 20: a third of what
following a job added to the server's work. Here the shapes workers send are decoded and
checked in one step (msgspec, from the bytes) straight into the domain's updates; an update's
lines stay as they were decoded (`CheckedLines`), and the store keeps them as their JSON.

Only what the models would take, as they would make it: a field these shapes do not list (a
result, record errors, a step's error), a value out of their bounds, a NUL (`\\u0000`), an
integer written as 5.0, a line long enough to be cut, a time without a zone or outside the
years a log keeps: `read_batch` answers None, and the body is read as before (orjson, then the
models), whose errors name the field at fault. A line's time is read as the models read it
(`line_times.py`). `tests/api/test_update_batches.py` holds the two readings to the same
answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from itertools import chain
from operator import attrgetter
from typing import Annotated, Any, Literal, cast, overload

import msgspec
from msgspec import Meta

from jobyard.api.schemas.fields import INT32_MAX, Counter, ReportableStatus
from jobyard.api.schemas.line_times import ZONED, within_years
from jobyard.api.schemas.step_reports import MAX_AMOUNT, MAX_PROGRESS_MESSAGE, MAX_UPDATE_STEPS
from jobyard.domain.checked_lines import CheckedLines
from jobyard.domain.entities import ExecutionUpdate, NewLogEntry
from jobyard.domain.states import ExecutionStatus
from jobyard.service.logs import MAX_UPDATE_LINES, SURELY_SHORT

MAX_BATCH = 1000


# gc=False: they hold only text, numbers and times, so no cycle can run through them, and the
# collector need not count the dozen a followed job makes.
class _Line(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    # None the service would cut: a longer line is the models' (and the cut's) to take
    data: Annotated[str, Meta(max_length=SURELY_SHORT)]
    source: Literal["stdout", "stderr", "system"] = "stdout"
    ts: ZONED | None = None


class _Step(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    # `Name`: msgspec searches its patterns, so the end is `\Z` (`$` takes a final newline)
    name: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.:/@-]{1,200}\Z")]
    status: Literal["pending", "in_progress", "succeeded", "failed", "skipped"]


_Amount = Annotated[int, Meta(ge=0, le=MAX_AMOUNT)] | Annotated[float, Meta(ge=0, le=1e15)]


class _Progress(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    current: _Amount
    total: _Amount | None = None
    message: Annotated[str, Meta(max_length=MAX_PROGRESS_MESSAGE)] | None = None


_Int32 = Annotated[int, Meta(ge=-INT32_MAX - 1, le=INT32_MAX)]


class _Update(msgspec.Struct, forbid_unknown_fields=True):
    job_id: Annotated[str, Meta(max_length=64)]
    execution_number: Annotated[int, Meta(ge=1, le=INT32_MAX)]
    status: ReportableStatus | None = None
    expected_version: Annotated[int, Meta(ge=0, le=INT32_MAX)] | None = None
    exit_code: _Int32 | None = None
    lease_s: Annotated[int, Meta(ge=1, le=12 * 3600)] | None = None
    worker_id: Annotated[str, Meta(max_length=200)] | None = None
    steps: Annotated[list[_Step], Meta(max_length=MAX_UPDATE_STEPS)] | None = None
    progress: _Progress | None = None
    counters: dict[Counter, Annotated[int, Meta(ge=0, le=2**40)]] | None = None
    logs: Annotated[list[_Line], Meta(max_length=MAX_UPDATE_LINES)] | None = None


class _Batch(msgspec.Struct, forbid_unknown_fields=True):
    updates: Annotated[list[_Update], Meta(min_length=1, max_length=MAX_BATCH)]


_DECODER = msgspec.json.Decoder(_Batch)
# By value: a twentieth of what `ExecutionStatus(value)` costs.
_STATUSES: dict[str | None, ExecutionStatus] = {s.value: s for s in ExecutionStatus}


class Decoded(list[ExecutionUpdate]):
    """The updates of a batch `read_batch` read: what the batch model's `updates` takes as it
    is (no JSON can make one)."""


class _NotPlain(Exception):
    """A value the models must judge (a time out of the years they take)."""


_TIME = attrgetter("ts")


def read_batch(body: bytes) -> dict[str, Any] | None:
    """The body as the batch model reads it (`{"updates": Decoded}`), or None when it is not
    only what workers send."""
    if b"\\u0000" in body:  # the one way to NUL in JSON text, which `Text` refuses
        return None
    try:
        batch = _DECODER.decode(body)
        lines = chain.from_iterable(u.logs for u in batch.updates if u.logs)
        if not within_years(list(map(_TIME, filter(_TIME, lines)))):
            raise _NotPlain
        return {"updates": Decoded([_update(u) for u in batch.updates])}
    except (msgspec.DecodeError, _NotPlain, OverflowError):
        return None


def _update(u: _Update) -> ExecutionUpdate:
    p = u.progress
    progress = None if p is None else {"current": p.current, "total": p.total, "message": p.message}
    return ExecutionUpdate(
        job_id=u.job_id,
        execution_number=u.execution_number,
        status=_STATUSES.get(u.status),
        expected_version=u.expected_version,
        exit_code=u.exit_code,
        lease_s=u.lease_s,
        worker_id=u.worker_id,
        steps=None if u.steps is None else [{"name": s.name, "status": s.status} for s in u.steps],
        progress=progress,
        counters=cast(dict[str, int] | None, u.counters),
        logs=None if u.logs is None else _Lines(u.logs),
    )


_ENCODER = msgspec.json.Encoder()


class _Lines(CheckedLines):
    """An update's lines as read: made into the domain's only when asked for."""

    __slots__ = ("_lines",)

    def __init__(self, lines: list[_Line]) -> None:
        self._lines = lines

    def json(self) -> bytes:
        return _ENCODER.encode(self._lines)

    def __len__(self) -> int:
        return len(self._lines)

    @overload
    def __getitem__(self, index: int) -> NewLogEntry: ...

    @overload
    def __getitem__(self, index: slice) -> list[NewLogEntry]: ...

    def __getitem__(self, index: int | slice) -> NewLogEntry | list[NewLogEntry]:
        if isinstance(index, slice):
            return [_entry(line) for line in self._lines[index]]
        return _entry(self._lines[index])

    def __iter__(self) -> Iterator[NewLogEntry]:
        return map(_entry, self._lines)


def _entry(line: _Line) -> NewLogEntry:
    ts = line.ts
    return NewLogEntry(line.source, line.data, None if ts is None else ts.astimezone(UTC))


__all__ = ["Decoded", "read_batch"]
