"""A log line's time is read alike by each of its three readers: the batch reader (msgspec), the
models (`LineTime`) and the one-pass check of appended lines (`plain_time`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobyard.api.schemas.follow import LogEntryIn
from jobyard.api.schemas.line_times import plain_time
from jobyard.api.schemas.update_batches import read_batch
from jobyard.domain.checked_lines import CheckedLines

_NOT_READ = "left to the models"


def _batch_reader(ts: str) -> datetime | str | None:
    body = orjson.dumps(
        {"updates": [{"job_id": "j", "execution_number": 1, "logs": [{"ts": ts, "data": "x"}]}]}
    )
    read = read_batch(body)
    if read is None:
        return _NOT_READ
    lines = read["updates"][0].logs
    assert isinstance(lines, CheckedLines)
    return lines[0].ts


def _models(ts: str) -> datetime | None:
    try:
        return LogEntryIn.model_validate({"data": "x", "ts": ts}).ts
    except pydantic.ValidationError:
        return None


def _texts(when: datetime, digits: int, colon: bool, letters: str) -> str:
    """`when` written with `digits` past the second and its offset with or without a colon,
    `letters` the separator and the zone's Z (when UTC)."""
    text = when.strftime("%Y-%m-%d") + letters[0] + when.strftime("%H:%M:%S")
    if digits:
        text += "." + (f"{when.microsecond:06d}" + "987")[:digits]
    offset = when.utcoffset()
    if offset == timedelta(0) and letters[1] != "+":
        return text + letters[1]
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    sign, minutes = ("-" if minutes < 0 else "+"), abs(minutes)
    return text + f"{sign}{minutes // 60:02d}{':' if colon else ''}{minutes % 60:02d}"


_ZONES = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))


@settings(max_examples=500, deadline=None)
@given(
    when=st.datetimes(
        min_value=datetime(1, 1, 1),
        max_value=datetime(9999, 12, 31),
        timezones=st.just(UTC) | _ZONES,
    ),
    digits=st.integers(0, 9),
    colon=st.booleans(),
    letters=st.sampled_from(["TZ", "tz", " Z", "T+"]),
)
def test_each_reader_reads_a_time_as_the_models_do(
    when: datetime, digits: int, colon: bool, letters: str
) -> None:
    ts = _texts(when, digits, colon, letters)
    models = _models(ts)
    straight = _batch_reader(ts)
    assert straight in (_NOT_READ, models), ts
    plain = plain_time(ts)
    assert plain is None or plain == models, ts


def test_the_workers_own_times_are_read_straight() -> None:
    now = datetime.now(UTC)
    assert _batch_reader(now.isoformat()) == now == plain_time(now.isoformat())


@pytest.mark.parametrize(
    ("ts", "read"),
    [
        ("2030-01-02T03:04:05+0530", datetime(2030, 1, 1, 21, 34, 5, tzinfo=UTC)),
        ("2030-01-02T03:04:05.1234565Z", datetime(2030, 1, 2, 3, 4, 5, 123457, tzinfo=UTC)),
        ("2030-01-02T03:04:05.1234564Z", datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)),
        ("2030-01-02T03:04:05.9999996Z", datetime(2030, 1, 2, 3, 4, 6, tzinfo=UTC)),
        ("2030-01-02T03:04:05", datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ],
)
def test_an_offset_without_its_colon_and_digits_past_the_microsecond_are_read(
    ts: str, read: datetime
) -> None:
    """As the module says: RFC 3339 as msgspec reads it, on every way in."""
    assert _models(ts) == read
    assert _batch_reader(ts) in (_NOT_READ, read)


@pytest.mark.parametrize(
    "ts",
    [
        "2030-01-02",
        "2030-01-02T03:04Z",
        "2030-02-30T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "9999-01-01T00:00:00Z",
        "1700000000",
    ],
)
def test_a_time_the_models_refuse_is_not_read_straight(ts: str) -> None:
    assert _models(ts) is None
    assert _batch_reader(ts) == _NOT_READ
