"""Field types for request bodies: only values that both databases keep exactly as sent.

PostgreSQL refuses NUL characters in text and JSON; orjson (which writes JSON columns) refuses
lone surrogates, integers beyond 64 bits and nesting deeper than 255; SQLite keeps times as epoch
seconds. A value past those limits is a client error (422 naming the field), never a 500.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, GetJsonSchemaHandler, TypeAdapter
from pydantic.json_schema import JsonSchemaValue
from typing_extensions import TypeAliasType

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
MAX_JSON_DEPTH = 32  # deeper than any real document; far inside what orjson can write
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def encodes(text: str) -> bool:
    """Whether `text` is valid Unicode (no lone surrogates): what `check_text` asks, as a test,
    for the one-pass checks of what workers send most."""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def check_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return value


# JSON carries a time as text: an RFC 3339 date and time, the zone optional (UTC without one).
TIME_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?")


def time_text(value: object) -> object:
    """Only a date and time in text: not a number (read as epoch seconds by a lax parser), not a
    date alone, which the schema's `date-time` does not allow either."""
    if isinstance(value, datetime) or (isinstance(value, str) and TIME_TEXT.fullmatch(value)):
        return value
    raise ValueError("time must be an ISO 8601 date and time, such as 2030-01-02T03:04:05Z")


def parse_time(text: str) -> datetime:
    """A time as `time_text` takes it, in UTC; ValueError when it is not one."""
    time_text(text)
    return utc_time(datetime.fromisoformat(text.upper()))


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


# What the schema says of text (`check_text` refuses the rest): no NUL characters.
NO_NUL = r"^[^\x00]*$"
NO_NUL_NAMES = {"propertyNames": {"pattern": NO_NUL}}

# The JSON values both databases keep, as the schema tells them (`check_json` validates): a
# recursive `JsonData` component. Its integers stay within +-2**62, so that the bounds, which
# the document writes as floats, still lie inside 64 bits. (The forward references are
# pydantic's to resolve, not mypy's.)
JsonData = TypeAliasType(  # type: ignore[misc]
    "JsonData",
    Annotated[str, Field(pattern=NO_NUL)]
    | Annotated[int, Field(ge=-(2**62), le=2**62)]
    | float
    | bool
    | list["JsonData"]  # type: ignore[misc]
    | Annotated[dict[str, "JsonData"], Field(json_schema_extra=NO_NUL_NAMES)]  # type: ignore[misc]
    | None,
)


class _JsonSchema:
    """Describes a JSON object (`object_=True`) or any JSON value as `JsonData`."""

    def __init__(self, object_: bool) -> None:
        self.object_ = object_

    def __get_pydantic_json_schema__(
        self, _core: Any, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        data = handler(TypeAdapter(JsonData).core_schema)
        if not self.object_:
            return data
        return {"type": "object", **NO_NUL_NAMES, "additionalProperties": data}


Text = Annotated[str, AfterValidator(check_text), Field(json_schema_extra={"pattern": NO_NUL})]
# An object's id as the schema tells it (the services check ids): a canonical, lowercase UUID.
IdText = Annotated[
    str, Field(json_schema_extra={"pattern": "^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$"})
]
JsonObject = Annotated[dict[str, Any], AfterValidator(check_json), _JsonSchema(object_=True)]
JsonValue = Annotated[Any, AfterValidator(check_json_value), _JsonSchema(object_=False)]
# Lax, unlike the rest of a request (a time arrives as text), but text of a time only.
AwareDatetime = Annotated[
    datetime, BeforeValidator(time_text), Field(strict=False), AfterValidator(utc_time)
]
Int32 = Annotated[int, Field(ge=-INT32_MAX - 1, le=INT32_MAX)]
# What a worker may report of an execution it holds ("queued" hands it back to the queue,
# claimable at once: a worker that stops).
ReportableStatus = Literal["queued", "in_progress", "succeeded", "failed", "rejected", "canceled"]
# The counters an update adds to.
Counter = Literal["num_success", "num_error", "num_ignore", "num_export", "num_pages"]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:/@-]+$")]
LabelKey = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:/-]+$")]
LabelValue = Annotated[Text, Field(max_length=1000)]
# A key subject: the id of the key a line of keys began with (rotation keeps it).
Subject = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
