"""The update bodies' shortcuts give what the full validation gives: log entries checked in one
pass, whole floats made integers only where there are floats, updates read without a dump."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pydantic
import pytest

from jobyard.api.schemas.executions import BatchUpdateItem, UpdateIn
from jobyard.api.schemas.follow import LogAppendIn, LogEntryIn
from jobyard.domain.entities import NewLogEntry

FULL = pydantic.TypeAdapter(list[LogEntryIn])

GOOD: list[list[Any]] = [
    [{"data": "plain"}],
    [{"source": "stderr", "data": "é and ✓", "ts": "2030-01-02T03:04:05.123456+00:00"}],
    [
        {"data": "zone", "ts": "2030-01-02T03:04:05+05:30"},
        {"data": "z", "ts": "2030-01-02T03:04:05Z"},
    ],
    [{"data": "no zone", "ts": "2030-01-02T03:04:05"}],  # UTC, by the full path
    [{"data": "lower", "ts": "2030-01-02t03:04:05z"}],
    [{"data": "space", "ts": "2030-01-02 03:04:05.5-01:00"}],
    [{"data": "more digits", "ts": "2030-01-02T03:04:05.123456789Z"}],
    [{"data": "given none", "ts": None, "source": "system"}],
    [{"data": "x" * (1024 * 1024)}],
    [],
]
BAD: list[list[Any]] = [
    [{"data": "ok"}, {"data": "nul\x00"}],
    [{"data": "surrogate \ud800"}],
    [{"data": "x" * (1024 * 1024 + 1)}],
    [{"data": 5}],
    [{"data": "x", "source": "debug"}],
    [{"data": "x", "source": ["stdout"]}],
    [{"data": "x", "extra": 1}],
    [{"source": "stdout"}],
    [{"data": "x", "ts": 1700000000}],
    [{"data": "x", "ts": "2030-01-02"}],
    [{"data": "x", "ts": "2030-02-30T00:00:00Z"}],
    [{"data": "x", "ts": "0001-01-01T00:00:00+01:00"}],
    [{"data": "x", "ts": "9999-12-31T23:59:59Z"}],
    ["just text"],
]


def _errors(exc: pydantic.ValidationError, drop: int) -> list[tuple[Any, ...]]:
    return [(e["type"], e["loc"][drop:], e["msg"]) for e in exc.errors()]


def _as_fully_validated(entries: list[Any]) -> list[NewLogEntry]:
    return [e.to_new() for e in FULL.validate_python(entries)]


@pytest.mark.parametrize("entries", GOOD)
def test_entries_that_pass_read_as_the_full_validation_reads_them(entries: list[Any]) -> None:
    expected = _as_fully_validated(entries)
    assert LogAppendIn.model_validate({"entries": entries}).entries == expected
    assert UpdateIn.model_validate({"logs": entries}).logs == expected


WORKER_TIME = "2030-01-02T03:04:05.123456+00:00"  # as a worker writes it


def _one_line(ts: str) -> tuple[list[NewLogEntry] | None, list[NewLogEntry] | None]:
    """`ts` in one entry, read by the one-pass check and by the full validation (None: refused)."""
    entries = [{"data": "x", "ts": ts}]
    try:
        fast = UpdateIn.model_validate({"logs": entries}).logs
    except pydantic.ValidationError:
        fast = None
    try:
        full = _as_fully_validated(entries)
    except pydantic.ValidationError:
        full = None
    return fast, full


@pytest.mark.parametrize("at", range(len(WORKER_TIME)))
def test_a_worker_time_with_any_one_character_changed_reads_as_the_full_validation_reads_it(
    at: int,
) -> None:
    """The workers' own time form is told by its separators alone; whatever else stands
    between them, the answer is the full validation's."""
    for c in "0129-+:.TtZz ,/Wa\u0663\u00e9":
        ts = WORKER_TIME[:at] + c + WORKER_TIME[at + 1 :]
        fast, full = _one_line(ts)
        assert fast == full, ts


@pytest.mark.parametrize(
    "ts",
    [
        "0001-01-01T23:59:59.999999+00:00",  # before the earliest time
        "0001-01-02T00:00:00.000000+00:00",
        "9998-12-31T23:59:59.999999+00:00",
        "9999-01-01T00:00:00.000000+00:00",  # the latest is out
        "2030-02-29T00:00:00.000000+00:00",  # no such day
        "2032-02-29T00:00:00.000000+00:00",
        "2030-01-02T24:00:00.000000+00:00",
        "2030-01-02T03:04:60.000000+00:00",
    ],
)
def test_worker_times_at_the_edges_read_as_the_full_validation_reads_them(ts: str) -> None:
    fast, full = _one_line(ts)
    assert fast == full


@pytest.mark.parametrize("entries", BAD)
def test_entries_at_fault_are_refused_as_the_full_validation_refuses_them(
    entries: list[Any],
) -> None:
    with pytest.raises(pydantic.ValidationError) as full:
        FULL.validate_python(entries)
    with pytest.raises(pydantic.ValidationError) as appended:
        LogAppendIn.model_validate({"entries": entries})
    with pytest.raises(pydantic.ValidationError) as updated:
        UpdateIn.model_validate({"logs": entries})
    assert _errors(appended.value, 1) == _errors(full.value, 0)
    assert _errors(updated.value, 1) == _errors(full.value, 0)


def test_lists_longer_than_allowed_are_refused() -> None:
    with pytest.raises(pydantic.ValidationError, match="at most 10000 items"):
        LogAppendIn.model_validate({"entries": [{"data": "x"}] * 10_001})
    with pytest.raises(pydantic.ValidationError, match="at most 1000 items"):
        UpdateIn.model_validate({"logs": [{"data": "x"}] * 1001})


def test_whole_floats_become_integers_and_fractions_are_refused() -> None:
    item = BatchUpdateItem.model_validate(
        {"job_id": "j", "execution_number": 2.0, "counters": {"num_success": 3.0}, "exit_code": 1}
    )
    assert (item.execution_number, item.counters) == (2, {"num_success": 3})
    assert type(item.execution_number) is int
    with pytest.raises(pydantic.ValidationError, match="execution_number"):
        BatchUpdateItem.model_validate({"job_id": "j", "execution_number": 2.5})


def test_an_update_carries_every_field_it_was_sent() -> None:
    sent: dict[str, Any] = {
        "status": "failed",
        "expected_version": 3,
        "status_details": {"phase": "load"},
        "result": {"rows": 1},
        "error": {"code": "E"},
        "exit_code": 2,
        "lease_s": 60,
        "worker_id": "w-1",
        "pid": 42,
        "hostname": "box",
        "steps": [{"name": "read", "status": "failed", "error": {"code": "E"}}],
        "progress": {"current": 1, "total": 2, "message": "half"},
        "counters": {"num_error": 1},
        "logs": [{"data": "line", "ts": "2030-01-02T03:04:05Z"}],
        "record_errors": [{"message": "bad row", "data": {"row": 1}}],
    }
    assert set(sent) == set(UpdateIn.model_fields), "every field is sent here"
    update = UpdateIn.model_validate(sent).to_update("job", 1)
    assert update.status is not None
    assert update.status.value == "failed"
    assert update.steps == [{"name": "read", "status": "failed", "error": {"code": "E"}}]
    assert update.progress == {"current": 1, "total": 2, "message": "half"}
    assert update.logs is not None
    assert update.logs[0].ts == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert update.record_errors is not None
    assert update.record_errors[0].data == {"row": 1}
    for name in set(sent) - {"status", "steps", "progress", "logs", "record_errors"}:
        assert getattr(update, name) == sent[name], name
