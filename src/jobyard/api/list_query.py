"""Reading `GET /v1/jobs` query strings into a JobFilter; anything unknown is a 400, not ignored."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query
from starlette.datastructures import QueryParams

from jobyard.api.schemas.fields import INT64_MAX, NO_NUL, check_text, parse_time
from jobyard.domain.entities import COUNTERS
from jobyard.domain.errors import InvalidQuery
from jobyard.domain.filters import DEFAULT_PAGE, JobFilter, decode_cursor
from jobyard.domain.states import JobStatus

_LISTS = {"status": "statuses", "type": "types", "queue": "queues", "parent_id": "parent_ids"}
_TIMES = ("created_at_gte", "created_at_lte", "updated_at_gte", "updated_at_lte")

# The declared parameters, described for `/openapi.json` as `parse_job_filter` reads them (it
# validates them itself): values between commas, each stripped of white space as `str.strip`
# knows it; a status must be one of the statuses; no text may hold a NUL character.
_SPACE = r"[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*"
_STATUS = f"{_SPACE}(?:{'|'.join(s.value for s in JobStatus)})?{_SPACE}"
STATUS_LIST = f"^{_STATUS}(?:,{_STATUS})*$"
_LIST = {"pattern": NO_NUL, "description": "One value, or several separated by commas."}
# Opaque, and only the server makes them: a format of their own says so.
CURSOR = {"format": "cursor", "description": "The `next_cursor` of the page before."}

StatusParam = Annotated[
    str | None, Query(alias="status", json_schema_extra={**_LIST, "pattern": STATUS_LIST})
]
TypeParam = Annotated[str | None, Query(alias="type", json_schema_extra=_LIST)]
ListParam = Annotated[str | None, Query(json_schema_extra=_LIST)]
TimeParam = Annotated[str | None, Query(json_schema_extra={"format": "date-time"})]
CursorParam = Annotated[str | None, Query(json_schema_extra=CURSOR)]


def _values(params: QueryParams, name: str) -> list[str]:
    out: list[str] = []
    for key in (name, f"{name}_in"):
        for raw in params.getlist(key):
            out.extend(v.strip() for v in raw.split(",") if v.strip())
    return out


def _time(name: str, raw: str) -> datetime:
    try:
        return parse_time(raw)  # as a body's times are read
    except ValueError as exc:
        raise InvalidQuery(f"{name} must be an ISO 8601 time: {exc}", field=name) from None


def _int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise InvalidQuery(f"{name} must be an integer", field=name) from None
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise InvalidQuery(f"{name} must fit in 64 bits", field=name)
    return value


def parse_job_filter(params: QueryParams) -> JobFilter:
    known = {"limit", "cursor", *_TIMES}
    for base in _LISTS:
        known.update({base, f"{base}_in"})
    for counter in COUNTERS:
        known.update({f"{counter}_gte", f"{counter}_lte"})
    for key, value in params.multi_items():
        if key not in known and not key.startswith("label."):
            raise InvalidQuery(f"unknown query parameter {key!r}", field=key)
        try:
            check_text(key)
            check_text(value)
        except ValueError as exc:
            raise InvalidQuery(f"{key}: {exc}", field=key) from None

    kwargs: dict[str, object] = {}
    for base, attr in _LISTS.items():
        kwargs[attr] = _values(params, base)
    try:
        kwargs["statuses"] = [JobStatus(s) for s in _values(params, "status")]
    except ValueError:
        allowed = ", ".join(s.value for s in JobStatus)
        raise InvalidQuery(f"status must be one of {allowed}", field="status") from None
    for name in _TIMES:
        if name in params:
            kwargs[name] = _time(name, params[name])
    kwargs["labels"] = {k[len("label.") :]: v for k, v in params.items() if k.startswith("label.")}
    kwargs["counters_gte"] = {
        c: _int(f"{c}_gte", params[f"{c}_gte"]) for c in COUNTERS if f"{c}_gte" in params
    }
    kwargs["counters_lte"] = {
        c: _int(f"{c}_lte", params[f"{c}_lte"]) for c in COUNTERS if f"{c}_lte" in params
    }
    kwargs["limit"] = _int("limit", params["limit"]) if "limit" in params else DEFAULT_PAGE
    if "cursor" in params:
        kwargs["before_id"] = decode_cursor(params["cursor"])
    return JobFilter(**kwargs)  # type: ignore[arg-type]
