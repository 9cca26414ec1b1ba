"""Step reports and progress checked in one pass read and refuse as the full validation does."""

from __future__ import annotations

from typing import Annotated, Any

import pydantic
import pytest

from jobyard.api.schemas.executions import UpdateIn
from jobyard.api.schemas.step_reports import Progress, StepReport

FULL_STEPS = pydantic.TypeAdapter(Annotated[list[StepReport], pydantic.Field(max_length=1000)])
FULL_PROGRESS = pydantic.TypeAdapter(Progress)


def _steps(value: Any) -> tuple[Any, Any]:
    """`value` as an update's steps, read by the update (one pass where it can) and by the
    models alone: each the reports, or the errors it was refused with."""
    try:
        fast: Any = UpdateIn.model_validate({"steps": value}).steps
    except pydantic.ValidationError as exc:
        fast = [(e["type"], e["loc"][1:], e["msg"]) for e in exc.errors()]
    try:
        full: Any = [s.report() for s in FULL_STEPS.validate_python(value)]
    except pydantic.ValidationError as exc:
        full = [(e["type"], e["loc"], e["msg"]) for e in exc.errors()]
    return fast, full


def _progress(value: Any) -> tuple[Any, Any]:
    try:
        fast: Any = UpdateIn.model_validate({"progress": value}).progress
    except pydantic.ValidationError as exc:
        fast = [(e["type"], e["loc"][1:], e["msg"]) for e in exc.errors()]
    try:
        full: Any = FULL_PROGRESS.validate_python(value).value()
    except pydantic.ValidationError as exc:
        full = [(e["type"], e["loc"], e["msg"]) for e in exc.errors()]
    return fast, full


STEPS: list[Any] = [
    [{"name": "read", "status": "succeeded"}, {"name": "write", "status": "in_progress"}],
    [{"name": "a.b:c/d@e-f_9", "status": "pending"}],
    [{"name": "n" * 200, "status": "skipped"}],
    [{"name": "n" * 201, "status": "skipped"}],
    [{"name": "", "status": "failed"}],
    [{"name": "load", "status": "failed", "error": {"code": "E", "detail": "bad"}}],
    [{"name": "load", "status": "succeeded", "result": {"type": "link", "url": "u"}}],
    [{"name": "load", "status": "succeeded", "result": None}],
    [{"name": "load", "status": "done"}],
    [{"name": "load"}],
    [{"status": "pending"}],
    [{"name": "load", "status": "pending", "extra": 1}],
    [{"name": 5, "status": "pending"}],
    [{"name": "load", "status": ["pending"]}],
    [{"name": "lo ad", "status": "pending"}],
    [{"name": "load\n", "status": "pending"}],
    [{"name": "lo\u00e9d", "status": "pending"}],
    ["load"],
    [],
    {"name": "load", "status": "pending"},
    [{"name": "x", "status": "pending"}] * 1000,
    [{"name": "x", "status": "pending"}] * 1001,
]


@pytest.mark.parametrize("value", STEPS)
def test_steps_read_or_refused_as_the_models_read_or_refuse_them(value: Any) -> None:
    fast, full = _steps(value)
    assert fast == full


def test_a_step_name_with_any_one_character_changed_reads_as_the_models_read_it() -> None:
    name = "read.rows:1/2@host-a_b"
    for at in range(len(name) + 1):
        for c in "aZ09_.:/@- \t\n\x00\u00e9\u0663\ud800#$%&*+,;=?[]\\^`{|}~\"'":
            for changed in (name[:at] + c + name[at + 1 :], name[:at] + c + name[at:]):
                fast, full = _steps([{"name": changed, "status": "succeeded"}])
                assert fast == full, repr(changed)


PROGRESS: list[Any] = [
    {"current": 3, "total": 10, "message": "reading"},
    {"current": 0},
    {"current": 0.5, "total": 1.0},
    {"current": 10**15, "total": 10**15},
    {"current": 10**15 + 1},
    {"current": 1e15},
    {"current": 1.5e15},
    {"current": -1},
    {"current": -0.5},
    {"current": True},
    {"current": "5"},
    {"current": None},
    {"total": 5},
    {"current": 1, "total": None, "message": None},
    {"current": 1, "total": -1},
    {"current": 1, "total": "10"},
    {"current": 1, "message": "m" * 1000},
    {"current": 1, "message": "m" * 1001},
    {"current": 1, "message": "nul\x00"},
    {"current": 1, "message": "lone \ud800"},
    {"current": 1, "message": "é and ✓"},
    {"current": 1, "message": 5},
    {"current": 1, "percent": 10},
    [1, 10],
    "half",
]


@pytest.mark.parametrize("value", PROGRESS)
def test_progress_read_or_refused_as_the_model_reads_or_refuses_it(value: Any) -> None:
    fast, full = _progress(value)
    assert fast == full
    if isinstance(fast, dict):
        assert type(fast["current"]) is type(value["current"])  # 1.0 stays a float, 1 an int
