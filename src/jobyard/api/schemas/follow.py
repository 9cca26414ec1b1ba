"""Logs, record errors and the primary error on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, PlainValidator, TypeAdapter

from jobyard.api.schemas.base import Answer, Request
from jobyard.api.schemas.fields import (
    IdText,
    JsonValue,
    Text,
    encodes,
)
from jobyard.api.schemas.line_times import LineTime, plain_time
from jobyard.domain.entities import LogEntry, NewLogEntry, NewRecordError, RecordError

MAX_LINE_CHARS = 1024 * 1024


class LogEntryIn(Request):
    """A log line as a worker sends it."""

    source: Literal["stdout", "stderr", "system"] = "stdout"
    data: Text = Field(max_length=MAX_LINE_CHARS)
    ts: LineTime | None = None

    def to_new(self) -> NewLogEntry:
        return NewLogEntry(self.source, self.data, self.ts)


_SOURCES = frozenset(("stdout", "stderr", "system"))
_KEYS = frozenset(("source", "data", "ts"))


def _plain_entries(value: Any, max_lines: int) -> list[NewLogEntry] | None:
    """Log entries as workers send them, checked in one pass: the same checks as `LogEntryIn`'s
    (which cost four calls a line and a model a line), or None when any entry fails one."""
    if type(value) is not list or len(value) > max_lines:
        return None
    entries = []
    for e in value:
        if type(e) is not dict or not e.keys() <= _KEYS:
            return None
        source, data, ts = e.get("source", "stdout"), e.get("data"), e.get("ts")
        if type(source) is not str or source not in _SOURCES or type(data) is not str:
            return None
        if len(data) > MAX_LINE_CHARS or "\x00" in data or not encodes(data):
            return None
        when = None
        if ts is not None:
            if type(ts) is not str:
                return None
            try:
                when = plain_time(ts)
            except (ValueError, OverflowError):
                return None
            if when is None:
                return None
        entries.append(NewLogEntry(source, data, when))
    return entries


def log_lines(max_lines: int) -> Any:
    """The type of a list of at most `max_lines` log entries, read straight into the domain's
    values. The schema is `LogEntryIn`'s; a list the one-pass check refuses goes to its full
    validation, which names the entry and the field at fault."""
    wire = Annotated[list[LogEntryIn], Field(max_length=max_lines)]
    full = TypeAdapter(wire)

    def read(value: Any) -> list[NewLogEntry]:
        entries = _plain_entries(value, max_lines)
        if entries is None:
            entries = [e.to_new() for e in full.validate_python(value)]
        return entries

    return Annotated[list[NewLogEntry], PlainValidator(read, json_schema_input_type=wire)]


if TYPE_CHECKING:
    AppendLines = list[NewLogEntry]
else:
    AppendLines = log_lines(10_000)


class LogAppendIn(Request):
    entries: AppendLines
    worker_id: Text | None = Field(None, max_length=200)


class LogAppended(Answer):
    last_seq: int


class LogEntryOut(Answer):
    seq: int
    execution_number: int
    ts: datetime
    source: str
    data: str

    @classmethod
    def of(cls, e: LogEntry) -> LogEntryOut:
        return cls.model_construct(
            seq=e.seq, execution_number=e.execution_number, ts=e.ts, source=e.source, data=e.data
        )


class LogPage(Answer):
    entries: list[LogEntryOut]
    last_seq: int | None = Field(description="Pass as `after` to read on from here.")


class RecordErrorIn(Request):
    message: Text = Field(max_length=10_000)
    code: Text | None = Field(None, max_length=200)
    source: Text | None = Field(None, max_length=200)
    data: JsonValue = None
    retriable: bool = False

    def to_new(self) -> NewRecordError:
        return NewRecordError(self.message, self.code, self.source, self.data, self.retriable)


class RecordErrorsIn(Request):
    errors: list[RecordErrorIn] = Field(max_length=5000)
    worker_id: Text | None = Field(None, max_length=200)


class RecordErrorsAppended(Answer):
    added: int


class RecordErrorOut(Answer):
    id: str
    job_id: str
    execution_number: int
    code: str | None
    message: str
    source: str | None
    data: Any
    retriable: bool
    resolved: bool
    created_at: datetime
    resolved_at: datetime | None

    @classmethod
    def of(cls, e: RecordError) -> RecordErrorOut:
        return cls.model_construct(
            id=e.id,
            job_id=e.job_id,
            execution_number=e.execution_number,
            code=e.code,
            message=e.message,
            source=e.source,
            data=e.data,
            retriable=e.retriable,
            resolved=e.resolved_at is not None,
            created_at=e.created_at,
            resolved_at=e.resolved_at,
        )


class RecordErrorPage(Answer):
    items: list[RecordErrorOut]
    next_cursor: str | None


class ResolveIn(Request):
    ids: list[IdText] | None = Field(None, max_length=1000, description="None: all of the job's.")


class Resolved(Answer):
    resolved: int


class FileUrlIn(Request):
    format: Literal["ndjson", "csv"] = "ndjson"
    expires_in_s: int | None = Field(None, ge=1, le=7 * 86400)


class FileUrlOut(Answer):
    url: str
    expires_at: datetime


class PrimaryError(Answer):
    code: str | None
    message: str | None
    details: Any = None
    at: datetime | None
