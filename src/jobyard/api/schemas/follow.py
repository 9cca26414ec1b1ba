"""Logs, record errors and the primary error on the wire."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, ValidatorFunctionWrapHandler, WrapValidator

from jobyard.api.schemas.base import Answer, Request
from jobyard.api.schemas.fields import EARLIEST, LATEST, AwareDatetime, IdText, JsonValue, Text
from jobyard.domain.entities import LogEntry, NewLogEntry, NewRecordError, RecordError

MAX_LINE_CHARS = 1024 * 1024


class LogEntryIn(Request):
    source: Literal["stdout", "stderr", "system"] = "stdout"
    data: Text = Field(max_length=MAX_LINE_CHARS)
    ts: AwareDatetime | None = None

    def to_new(self) -> NewLogEntry:
        return NewLogEntry(self.source, self.data, self.ts)

    @classmethod
    def checked(cls, source: str, data: str, ts: datetime | None) -> LogEntryIn:
        """An entry from values already checked: what `model_construct` makes, at a fifth of
        its cost (it looks at every field's default)."""
        entry = cls.__new__(cls)
        object.__setattr__(entry, "__dict__", {"source": source, "data": data, "ts": ts})
        object.__setattr__(entry, "__pydantic_fields_set__", _KEYS)
        object.__setattr__(entry, "__pydantic_extra__", None)
        object.__setattr__(entry, "__pydantic_private__", None)
        return entry


_SOURCES = frozenset(("stdout", "stderr", "system"))
_KEYS = frozenset(("source", "data", "ts"))
# The times workers send (`datetime.isoformat()` in UTC): read alike by `fromisoformat`.
_PLAIN_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")


def _plain_entries(value: Any, validate: ValidatorFunctionWrapHandler) -> Any:
    """Log entries as workers send them, checked in one pass: the same checks as `LogEntryIn`'s
    (which cost four calls a line), taken only when every entry passes them. Anything else goes
    to the full validation, which names the entry and the field at fault."""
    if type(value) is not list:
        return validate(value)
    entries = []
    for e in value:
        if type(e) is not dict or not _KEYS.issuperset(e):
            return validate(value)
        source, data, ts = e.get("source", "stdout"), e.get("data"), e.get("ts")
        if type(source) is not str or source not in _SOURCES or type(data) is not str:
            return validate(value)
        if len(data) > MAX_LINE_CHARS or "\x00" in data or not _encodes(data):
            return validate(value)
        when = None
        if ts is not None:
            if type(ts) is not str or not _PLAIN_TIME.fullmatch(ts):
                return validate(value)
            try:
                when = datetime.fromisoformat(ts).astimezone(UTC)
            except (ValueError, OverflowError):
                return validate(value)
            if not EARLIEST <= when < LATEST:
                return validate(value)
        entries.append(LogEntryIn.checked(source, data, when))
    return entries


def _encodes(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


# On a list of entries, before its length is checked: `Annotated[list[LogEntryIn], PLAIN_ENTRIES,
# Field(max_length=...)]` (a `Field` on the attribute would be checked inside, and skipped).
PLAIN_ENTRIES = WrapValidator(_plain_entries)


class LogAppendIn(Request):
    entries: Annotated[list[LogEntryIn], PLAIN_ENTRIES, Field(max_length=10_000)]
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
