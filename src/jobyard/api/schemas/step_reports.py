"""Steps and progress as a worker reports them in an update, read straight into plain values.

A followed job's end carries a few step reports and its progress; as models, that was four
models and their checks for every job of a batch (the step reports' and progress' share of a
followed end's validation was a third). Reports as workers send them (a step's name and
status, progress as numbers and text) are checked here in one pass, with the same bounds as
the models; anything else (a result, an error, a value out of bounds, a key unknown) goes to
the models' full validation, which names the field at fault. The schema stays the models'.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, TypeAdapter

from jobyard.api.schemas.base import Request
from jobyard.api.schemas.fields import JsonObject, Name, Text, encodes
from jobyard.domain.steps import STEP_STATUSES

MAX_UPDATE_STEPS = 1000
MAX_PROGRESS_MESSAGE = 1000
MAX_AMOUNT = 10**15


class StepError(Request):
    code: Text | None = Field(None, max_length=200)
    title: Text | None = Field(None, max_length=1000)
    detail: Text | None = Field(None, max_length=10_000)

    def report(self) -> dict[str, str]:
        """The fields given: `model_dump(exclude_none=True)` at a fraction of its cost."""
        return {
            k: v
            for k, v in (("code", self.code), ("title", self.title), ("detail", self.detail))
            if v is not None
        }


class StepReport(Request):
    """A step's new state; the job's other steps stay as they are."""

    name: Name
    status: Literal["pending", "in_progress", "succeeded", "failed", "skipped"]
    result: JsonObject | None = Field(None, description='e.g. {"type": "link", "url": ...}')
    error: StepError | None = None

    def report(self) -> dict[str, Any]:
        """The fields given, as `model_dump(exclude_none=True)` gives them (a result's own
        values as sent)."""
        step: dict[str, Any] = {"name": self.name, "status": self.status}
        if self.result is not None:
            step["result"] = self.result
        if self.error is not None:
            step["error"] = self.error.report()
        return step


Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT)] | Annotated[float, Field(ge=0, le=1e15)]


class Progress(Request):
    current: Amount
    total: Amount | None = None
    message: Text | None = Field(None, max_length=MAX_PROGRESS_MESSAGE)

    def value(self) -> dict[str, Any]:
        """As `model_dump()`."""
        return {"current": self.current, "total": self.total, "message": self.message}


# `Name`'s pattern and bounds, for the one-pass check.
_NAME = re.compile(r"[A-Za-z0-9_.:/@-]{1,200}")
_STATUSES = frozenset(STEP_STATUSES)
_PROGRESS_KEYS = frozenset(("current", "total", "message"))


def _plain_steps(value: Any, most: int) -> list[dict[str, Any]] | None:
    """Reports of a name and a status only, checked as `StepReport` checks them; None when
    any report is another shape or fails a check."""
    if type(value) is not list or len(value) > most:
        return None
    reports = []
    for report in value:
        if type(report) is not dict or len(report) != 2:
            return None
        name, status = report.get("name"), report.get("status")
        if type(name) is not str or type(status) is not str or status not in _STATUSES:
            return None
        if not _NAME.fullmatch(name):
            return None
        reports.append({"name": name, "status": status})
    return reports


def step_reports(most: int) -> Any:
    """The type of a list of at most `most` step reports, read as plain `{"name", "status",
    "result"?, "error"?}` values."""
    wire = Annotated[list[StepReport], Field(max_length=most)]
    full = TypeAdapter(wire)

    def read(value: Any) -> list[dict[str, Any]]:
        reports = _plain_steps(value, most)
        if reports is None:
            reports = [s.report() for s in full.validate_python(value)]
        return reports

    return Annotated[list[dict[str, Any]], PlainValidator(read, json_schema_input_type=wire)]


def _amount(value: Any) -> bool:
    kind = type(value)
    if kind is int:
        return bool(0 <= value <= MAX_AMOUNT)
    return kind is float and bool(0 <= value <= 1e15)  # NaN compares false


def _plain_progress(value: Any) -> dict[str, Any] | None:
    """Progress as numbers and text, checked as `Progress` checks it; None otherwise."""
    if type(value) is not dict or "current" not in value or not _PROGRESS_KEYS.issuperset(value):
        return None
    current, total, message = value["current"], value.get("total"), value.get("message")
    if not _amount(current) or (total is not None and not _amount(total)):
        return None
    if message is not None and not _plain_text(message, MAX_PROGRESS_MESSAGE):
        return None
    return {"current": current, "total": total, "message": message}


def _plain_text(text: Any, most: int) -> bool:
    """What `Text` with at most `most` characters takes."""
    return type(text) is str and len(text) <= most and "\x00" not in text and encodes(text)


def progress_report() -> Any:
    """The type of a job's progress, read as a plain `{"current", "total", "message"}`."""
    full = TypeAdapter(Progress)

    def read(value: Any) -> dict[str, Any]:
        progress = _plain_progress(value)
        return progress if progress is not None else full.validate_python(value).value()

    return Annotated[dict[str, Any], PlainValidator(read, json_schema_input_type=Progress)]
