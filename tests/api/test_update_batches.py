"""A batch of updates read straight from its bytes (`update_batches.read_batch`) is read as the
models read it, or not at all: then the models read it, and their errors name the field."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobyard.api.schemas.executions import BatchUpdateIn
from jobyard.api.schemas.update_batches import read_batch
from jobyard.client.json_text import dumps
from jobyard.client.models import ExecutionUpdate as SentUpdate

WORKER_TIME = "2030-01-02T03:04:05.123456+00:00"


def _by_models(body: bytes) -> str:
    """The updates as the models read the body (repr: 5 and 5.0 differ), or why not."""
    try:
        return repr(BatchUpdateIn.model_validate(json.loads(body)).updates)
    except pydantic.ValidationError as exc:
        return "refused: " + str([(e["type"], e["loc"]) for e in exc.errors()])


def _straight(body: bytes) -> str | None:
    """The updates as `read_batch` reads them, through the model as the route takes them; None
    when it leaves the body to the models."""
    read = read_batch(body)
    return None if read is None else repr(BatchUpdateIn.model_validate(read).updates)


def _body(*updates: dict[str, Any]) -> bytes:
    return json.dumps({"updates": list(updates)}).encode()


def _end(**fields: Any) -> dict[str, Any]:
    return {"job_id": str(uuid.uuid4()), "execution_number": 1, "status": "succeeded", **fields}


FOLLOWED = _end(
    expected_version=2,
    worker_id="w-1",
    steps=[{"name": "read", "status": "succeeded"}, {"name": "write", "status": "in_progress"}],
    progress={"current": 10, "total": 10.5, "message": "done"},
    counters={"num_success": 3},
    logs=[
        {"data": "first", "ts": WORKER_TIME},
        {"data": "é ✓ 😀", "source": "stderr", "ts": None},
        {"data": "untimed", "source": "system"},
    ],
)


@pytest.mark.parametrize(
    "body",
    [
        _body(_end()),
        _body(FOLLOWED, _end(status="failed", exit_code=-3)),
        _body({"job_id": "j", "execution_number": 4, "lease_s": 60, "worker_id": "w"}),
        _body(_end(logs=[], steps=[], counters={})),
    ],
)
def test_what_workers_send_is_read_straight_and_as_the_models_read_it(body: bytes) -> None:
    straight = _straight(body)
    assert straight is not None, "left to the models"
    assert straight == _by_models(body)


def test_the_worker_runtimes_own_body_is_read_straight() -> None:
    """What `jobyard.worker` writes (the times as orjson writes them) takes the short way."""
    sent = SentUpdate(
        job_id=str(uuid.uuid4()),
        execution_number=1,
        status="succeeded",
        worker_id="w",
        steps=[{"name": "read", "status": "succeeded"}],
        progress={"current": 1, "total": 1, "message": None},
    )
    sent.__dict__["logs"] = [{"data": "a line", "ts": datetime.now(UTC)}]
    body = dumps({"updates": [sent.body()]})
    straight = _straight(body)
    assert straight is not None
    assert straight == _by_models(body)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_body(_end(result={"rows": 1})), "result"),  # a field these shapes leave to the models
        (_body(_end(steps=[{"name": "s", "status": "failed", "error": {"code": "E"}}])), "steps"),
        (_body(_end(execution_number=1.0)), "an integer written as a float"),
        (_body(_end(logs=[{"data": "x", "ts": "2030-01-02 03:04:05"}])), "a time without a zone"),
        (_body(_end(worker_id="nul\x00")), "a NUL"),
        (_body(_end(logs=[{"data": "x", "ts": "9999-01-01T00:00:00.000000+00:00"}])), "too late"),
        (_body(_end(logs=[{"data": "x", "ts": "2030-02-30T00:00:00.000000+00:00"}])), "no day"),
        (_body(_end(logs=[{"data": "x" * (16 * 1024 + 1)}])), "a line that may need a cut"),
        (_body(_end(steps=[{"name": "read\n", "status": "succeeded"}])), "a name's newline"),
        (_body(_end(execution_number=2**31)), "out of bounds"),
        (b'{"updates": []}', "no updates"),
        (b'{"updates": [{"job_id": "\\ud800", "execution_number": 1}]}', "a lone surrogate"),
        (b"[]", "not an object"),
    ],
)
def test_anything_else_is_left_to_the_models(body: bytes, field: str) -> None:
    assert read_batch(body) is None, field


# Each place in an update: values it takes, and values near and past its bounds or of another
# JSON type. An update is drawn of values it takes, then one place may get another value.
_INTS = [0, 2**31, -1, 2**31 - 1, -(2**31), -(2**31) - 1, 2**40, 2**64, 5.0, True, "1", None]
_TEXTS = ["", "é", "😀" * 3, "x" * 201, "a\x00b", "line\n", 5, None]
_PLACES: dict[str, tuple[list[Any], list[Any]]] = {
    "job_id": ([str(uuid.UUID(int=7)), "j", "x" * 64], ["x" * 65, "", 5, None]),
    "execution_number": ([1, 2, 2**31 - 1], [0, *_INTS]),
    "status": (["succeeded", "failed", "in_progress", "queued", None], ["timed_out", 1, ""]),
    "expected_version": ([0, 3, 2**31 - 1, None], _INTS),
    "exit_code": ([0, -3, 2**31 - 1, -(2**31), None], _INTS),
    "lease_s": ([1, 60, 43200, None], [0, 43201, *_INTS]),
    "worker_id": (["w-1", "é", "x" * 200, None], _TEXTS),
    "step name": (["read", "a.b:c/d@e-f_g", "x" * 200], ["", "x" * 201, "a b", "read\n", 5]),
    "step status": (["pending", "in_progress", "succeeded", "skipped"], ["done", None, 1]),
    "step key": ([None], ["result", "error", "other"]),
    "amount": ([0, 7, 10**15, 0.5, 1e15, -0.0], [-1, 10**15 + 1, 1.5e15, True, "1", [1]]),
    "total": ([0, 7, 0.5, None], [-1, 1.5e15, True, "1"]),
    "message": (["done", "é", "x" * 1000, None], ["x" * 1001, "a\x00", 5]),
    "counter": (["num_success", "num_error", "num_pages"], ["num_other", ""]),
    "count": ([0, 3, 2**40], [-1, 2**40 + 1, 3.0, True, None]),
    "data": (["a line", "é ✓ 😀", "", "x" * 300], ["a\x00b", 5, None]),
    "ts": (
        [WORKER_TIME, "0001-01-02T00:00:00.000000+00:00", "2030-01-02T03:04:05Z", None],
        [
            "2030-01-02T03:04:05",
            "9999-01-01T00:00:00.000000+00:00",
            "2030-13-02T03:04:05.123456+00:00",
            "2030-02-30T03:04:05.123456+00:00",
            "2030-01-02T03:04:05.123456-00:00",
            "2030-01-02t03:04:05.123456+00:00",
            "2030-01-02T03:04:05.1234567Z",
            "2030-01-02T03:04:05+24:00",
            1700000000,
        ],
    ),
    "source": (["stdout", "stderr", "system"], ["debug", None, 1]),
    "line key": ([None], ["extra"]),
    "update key": ([None], ["result", "status_details", "pid", "other"]),
}


class _Update:
    """An update with every place filled: each with the first value it takes, but for the one
    place given `value`."""

    def __init__(self, place: str | None = None, value: Any = None) -> None:
        self.place, self.value = place, value

    def __call__(self, place: str) -> Any:
        return self.value if place == self.place else _PLACES[place][0][0]

    def has(self, place: str) -> bool:
        """Whether an optional part is there (all are, here)."""
        return True

    def count(self) -> int:
        return 2

    def update(self) -> dict[str, Any]:
        u: dict[str, Any] = {"job_id": self("job_id"), "execution_number": self("execution_number")}
        for name in ("status", "expected_version", "exit_code", "lease_s", "worker_id"):
            if self.has(name):
                u[name] = self(name)
        if self.has("steps"):
            u["steps"] = [self.step() for _ in range(self.count())]
        if self.has("progress"):
            u["progress"] = {"current": self("amount"), "total": self("total")}
            if self.has("message"):
                u["progress"]["message"] = self("message")
        if self.has("counters"):
            u["counters"] = {self("counter"): self("count")}
        if self.has("logs"):
            u["logs"] = [self.line() for _ in range(self.count())]
        if (key := self("update key")) is not None:
            u[key] = {"phase": "x"}
        return u

    def step(self) -> dict[str, Any]:
        step = {"name": self("step name"), "status": self("step status")}
        if (key := self("step key")) is not None:
            step[key] = {"code": "E"}
        return step

    def line(self) -> dict[str, Any]:
        line: dict[str, Any] = {"data": self("data")}
        for name in ("ts", "source"):
            if self.has(name):
                line[name] = self(name)
        if (key := self("line key")) is not None:
            line[key] = 1
        return line


def _each(pools: int) -> list[tuple[str, Any]]:
    return [(place, v) for place, both in _PLACES.items() for v in both[pools]]


@pytest.mark.parametrize(("place", "value"), _each(0))
def test_each_value_a_place_takes_is_read_straight_as_the_models_read_it(
    place: str, value: Any
) -> None:
    body = _body(_Update(place, value).update())
    straight = _straight(body)
    assert straight is not None, "left to the models"
    assert straight == _by_models(body)


@pytest.mark.parametrize(("place", "value"), _each(1))
def test_each_value_past_a_places_bounds_is_left_to_the_models(place: str, value: Any) -> None:
    """Or read as they read it: a time in another form that they read alike, say."""
    body = _body(_Update(place, value).update())
    straight = _straight(body)
    assert straight is None or straight == _by_models(body)


class _Draw(_Update):
    """A drawn update: each place drawn from the values it takes, but the odd one (if any),
    drawn from either pool; optional parts there or not."""

    def __init__(self, data: st.DataObject, odd: str | None) -> None:
        super().__init__()
        self.data, self.odd = data, odd

    def __call__(self, place: str) -> Any:
        good, bad = _PLACES[place]
        pool = bad if place == self.odd and self.data.draw(st.booleans()) else good
        return self.data.draw(st.sampled_from(pool))

    def has(self, place: str) -> bool:
        return bool(self.data.draw(st.booleans()))

    def count(self) -> int:
        return int(self.data.draw(st.integers(0, 3)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    odd=st.none() | st.sampled_from(sorted(_PLACES)),
    ascii_only=st.booleans(),
)
def test_a_batch_read_straight_reads_as_the_models_read_it(
    data: st.DataObject, odd: str | None, ascii_only: bool
) -> None:
    """Updates together, with optional parts there or not, and any text as UTF-8 or escaped."""
    draw = _Draw(data, odd)
    updates = [draw.update() for _ in range(data.draw(st.integers(0, 3)))]
    body = json.dumps({"updates": updates}, ensure_ascii=ascii_only).encode()
    straight = _straight(body)
    if straight is not None:
        assert straight == _by_models(body)
