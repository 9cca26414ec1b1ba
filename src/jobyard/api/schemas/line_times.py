"""The time of a log line, read one way wherever it arrives.

A worker's update batch is read by msgspec, which reads a line's time as RFC 3339 in C, for a
fiftieth of what Python's own parsing costs; the models and the logs route read the same text
with the same parser (`line_time`), so a time is taken, refused or rounded alike whichever way
its body went. Against the other times of the API: an offset may be written without its colon
(`+0530`), and digits past the microsecond round to the nearest one (half up) instead of
being dropped.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

import msgspec
from pydantic import AfterValidator, BeforeValidator, Field

from jobyard.api.schemas.fields import EARLIEST, LATEST, utc_time

# A zone required: a time without one is the models' to take as UTC.
ZONED = Annotated[datetime, msgspec.Meta(tz=True)]
_MESSAGE = "time must be an RFC 3339 date and time, such as 2030-01-02T03:04:05Z"


def line_time(value: object) -> object:
    """Text read as msgspec reads RFC 3339 (a zone optional), or a ValueError."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return msgspec.convert(value, datetime)
        except msgspec.ValidationError:
            pass
    raise ValueError(_MESSAGE)


# A line's time in a model: as `line_time` reads it, in UTC, within the years a log keeps.
LineTime = Annotated[
    datetime, BeforeValidator(line_time), Field(strict=False), AfterValidator(utc_time)
]


def within_years(times: list[datetime]) -> bool:
    """Whether all `times` (aware) lie within the years the models take (`utc_time`)."""
    return not times or (min(times) >= EARLIEST and max(times) < LATEST)


# The times workers send (`datetime.isoformat()` in UTC), and forms like them that Python's
# `fromisoformat` reads as msgspec does. (An offset's hours and minutes within a day and an
# hour: `fromisoformat` takes +00:90, msgspec refuses it.)
_PLAIN_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)"
)


def plain_time(ts: str) -> datetime | None:
    """`ts` in UTC if it is a time as workers write it and `_PLAIN_TIME` takes, else None:
    what `LineTime` makes of it, for the one-pass check of appended lines, at half the cost.
    The workers' own form (`2030-01-02T03:04:05.123456+00:00`) is told by its separators, at
    a third of the regex's cost: `fromisoformat` takes nothing else with them in those places
    (`tests/api/test_line_times.py` tries)."""
    if len(ts) == 32 and ts[4:20:3] == "--T::." and ts.endswith("+00:00") and ts.isascii():
        when = datetime.fromisoformat(ts)
        if "1" <= ts[0] <= "8":  # the years 1000 to 8999: within the bounds, no need to compare
            return when
    elif _PLAIN_TIME.fullmatch(ts):
        when = datetime.fromisoformat(ts).astimezone(UTC)
    else:
        return None
    return when if EARLIEST <= when < LATEST else None


__all__ = ["ZONED", "LineTime", "line_time", "plain_time", "within_years"]
