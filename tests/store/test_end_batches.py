"""What the hot paths of both backends share about a batch of ends."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from jobyard.domain.steps import merge_steps
from jobyard.store.end_batches import STAMP, FreshSteps

AT = datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def test_fresh_steps_are_the_reports_merged_onto_none_once_for_alike_reports() -> None:
    fresh = FreshSteps(AT)
    reports: list[dict[str, Any]] = [
        {"name": "read", "status": "succeeded", "result": {"n": 1}},
        {"name": "write"},
    ]
    first = fresh.text(reports)
    assert orjson.loads(first) == merge_steps([], reports, AT)
    assert fresh.text([dict(r) for r in reports]) is first  # alike: the same text, made once
    other: list[dict[str, Any]] = [{"name": "read", "status": "failed", "error": {"m": "x"}}]
    assert orjson.loads(fresh.text(other)) == merge_steps([], other, AT)
    assert fresh.text(other) != first


def test_fresh_steps_left_for_the_database_to_stamp_hold_the_mark_only_where_times_go() -> None:
    """With no time, each time is the mark `STAMP`, which the reports' own values never
    become (orjson escapes it in text): the database replaces it, and only it."""
    reports: list[dict[str, Any]] = [
        {"name": "read", "status": "succeeded", "result": {"note": STAMP, "at": AT.isoformat()}},
        {"name": "write", "status": "pending"},
        {"name": "send", "status": "in_progress"},
    ]
    text = FreshSteps(None).text(reports)
    assert text.count(STAMP) == 3  # read's start and end, send's start
    stamped = orjson.loads(text.replace(STAMP, AT.isoformat()))
    assert stamped == merge_steps([], reports, AT)
