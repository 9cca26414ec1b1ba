"""Logs, record errors and the primary error on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from jobyard.api.schemas.base import Answer, Request
from jobyard.api.schemas.fields import AwareDatetime, IdText, JsonValue, Text
from jobyard.domain.entities import LogEntry, NewLogEntry, NewRecordError, RecordError


class LogEntryIn(Request):
    source: Literal["stdout", "stderr", "system"] = "stdout"
    data: Text = Field(max_length=1024 * 1024)
    ts: AwareDatetime | None = None

    def to_new(self) -> NewLogEntry:
        return NewLogEntry(self.source, self.data, self.ts)


class LogAppendIn(Request):
    entries: list[LogEntryIn] = Field(max_length=10_000)
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
