"""The listing filter and its opaque cursor."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobyard.domain.errors import InvalidQuery
from jobyard.domain.filters import DEFAULT_PAGE, MAX_PAGE, JobFilter, decode_cursor, encode_cursor
from jobyard.domain.ids import is_id

job_ids = st.uuids().map(str)


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@given(job_ids)
def test_cursor_round_trips(job_id: str) -> None:
    assert decode_cursor(encode_cursor(job_id)) == job_id


@given(job_ids)
def test_cursor_is_safe_in_a_url(job_id: str) -> None:
    cursor = encode_cursor(job_id)
    assert cursor.isascii()
    assert not set(cursor) & set("+/=&?# %")
    assert job_id not in cursor  # opaque: clients do not see the id


@given(st.text(max_size=80))
def test_any_garbage_cursor_is_invalid_query_or_a_job_id(cursor: str) -> None:
    try:
        decoded = decode_cursor(cursor)
    except InvalidQuery:
        return  # the one error a client may cause with a cursor (a 400, never a 500)
    assert is_id(decoded)


FIXED_ID = "01a2074c-35d0-7684-b068-c4a8ea16479b"  # parameters must be the same in every process


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor",
        "%%%%",
        "é",
        _b64("v1:"),
        _b64("v2:" + FIXED_ID),
        _b64(FIXED_ID),
        _b64("v1:" + FIXED_ID + "0"),
        _b64("v1:" + "z" * 36),  # the right length, but no id: must not reach the database
        _b64("v1:" + FIXED_ID.upper()),
        base64.urlsafe_b64encode(b"v1:\xff\xfe").decode(),
    ],
)
def test_garbage_cursors_raise_invalid_query(cursor: str) -> None:
    with pytest.raises(InvalidQuery) as info:
        decode_cursor(cursor)
    assert info.value.details["field"] == "cursor"
    assert info.value.code == "invalid_query"


def test_limit_defaults_to_a_page_of_100() -> None:
    assert JobFilter().limit == DEFAULT_PAGE == 100


@pytest.mark.parametrize("limit", [1, 2, 999, MAX_PAGE])
def test_limit_within_bounds_is_accepted(limit: int) -> None:
    assert JobFilter(limit=limit).limit == limit


@pytest.mark.parametrize("limit", [-1, 0, MAX_PAGE + 1, 10**9])
def test_limit_out_of_bounds_is_refused(limit: int) -> None:
    with pytest.raises(InvalidQuery) as info:
        JobFilter(limit=limit)
    assert info.value.details == {"field": "limit"}
    assert "1000" in info.value.message


def test_known_counters_may_be_filtered() -> None:
    flt = JobFilter(counters_gte={"num_success": 1}, counters_lte={"num_pages": 5})
    assert flt.counters_gte == {"num_success": 1}


@pytest.mark.parametrize("side", ["counters_gte", "counters_lte"])
def test_unknown_counters_are_refused(side: str) -> None:
    with pytest.raises(InvalidQuery) as info:
        JobFilter(**{side: {"num_bogus": 1}})  # type: ignore[arg-type]
    assert info.value.details == {"field": "num_bogus"}
