"""Request bodies written by orjson read as the standard library would have written them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from jobyard.client import json_text
from jobyard.client.models import ExecutionUpdate, JobSpec


def as_pydantic_writes(model: Any) -> Any:
    return json.loads(json.dumps(model.model_dump(mode="json", exclude_none=True)))


def test_an_update_reads_as_pydantic_would_write_it() -> None:
    update = ExecutionUpdate(
        job_id="j",
        execution_number=1,
        status="succeeded",
        result={
            "nan": float("nan"),
            "inf": float("-inf"),
            "amount": Decimal("1.50"),
            "when": datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
            "id": UUID(int=7),
            "tags": ("a", "b"),
            "by_number": {1: "one"},
        },
        logs=[{"source": "stdout", "data": "é ✓", "ts": datetime(2030, 1, 2, tzinfo=UTC)}],
    )
    sent = json.loads(json_text.dumps({"updates": [update.body()]}))
    expected = as_pydantic_writes(update)
    for item in (sent["updates"][0], expected):  # the same time, told two ways
        for key, when in (("result", "when"),):
            item[key][when] = datetime.fromisoformat(item[key][when])
        item["logs"][0]["ts"] = datetime.fromisoformat(item["logs"][0]["ts"])
    assert sent["updates"][0] == expected
    assert expected["result"]["nan"] is None
    assert expected["result"]["by_number"] == {"1": "one"}


def test_what_orjson_cannot_write_the_standard_library_writes_or_refuses() -> None:
    assert json.loads(json_text.dumps({"big": 2**70, "x": float("nan")})) == {
        "big": 2**70,
        "x": None,
    }
    with pytest.raises(UnicodeEncodeError):
        json_text.dumps({"lone": "\ud800"})
    with pytest.raises((TypeError, ValueError)):
        json_text.dumps({"what": object()})


def test_other_bodies_are_written_as_before() -> None:
    spec = JobSpec(type="t", params={"n": 1}, scheduled_at=datetime(2030, 1, 2, tzinfo=UTC))
    body = spec.body()
    assert json.loads(json_text.dumps(body)) == json.loads(json.dumps(body))
