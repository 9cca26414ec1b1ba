"""Field types for request bodies: only values that both databases keep exactly as sent.

PostgreSQL refuses NUL characters in text and JSON; orjson (which writes JSON columns) refuses
lone surrogates, integers beyond 64 bits and nesting deeper than 255; SQLite keeps times as epoch
seconds. A value past those limits is a client error (422 naming the field), never a 500.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
MAX_JSON_DEPTH = 32  # deeper than any real document; far inside what orjson can write
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def check_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return value


def utc_time(value: datetime) -> datetime:
    """A time without a zone is taken as UTC: the one reading that cannot surprise across hosts."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise ValueError("time must lie between the years 0001 and 9999 (UTC)")
    return utc


def _check_json(value: object, path: str, depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"{path or 'value'}: nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        if isinstance(value, str):
            check_text(value)
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, int) and not -INT64_MAX - 1 <= value <= INT64_MAX:
            raise ValueError("integers must fit in 64 bits")
        elif isinstance(value, float) and not math.isfinite(value):
            raise ValueError("numbers must be finite")
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}" if path else str(exc)) from None
    if isinstance(value, dict):
        for key, item in value.items():
            check_text(key)
            _check_json(item, f"{path}.{key}" if path else key, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_json(item, f"{path}[{i}]", depth + 1)


def check_json(value: dict[str, Any]) -> dict[str, Any]:
    _check_json(value, "", 1)
    return value


def check_json_value(value: Any) -> Any:
    _check_json(value, "", 1)
    return value


Text = Annotated[str, AfterValidator(check_text)]
JsonObject = Annotated[dict[str, Any], AfterValidator(check_json)]
JsonValue = Annotated[Any, AfterValidator(check_json_value)]
AwareDatetime = Annotated[datetime, AfterValidator(utc_time)]
Int32 = Annotated[int, Field(ge=-INT32_MAX - 1, le=INT32_MAX)]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:/@-]+$")]
LabelKey = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:/-]+$")]
LabelValue = Annotated[Text, Field(max_length=1000)]
