"""Bodies read by orjson read exactly as the standard library reads them, or fail as it fails."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from jobyard.api.json_route import OrjsonRequest

BODIES = [
    b'{"a": 1, "b": [1.5, -0.0, 1e-7, "\\u00e9\\ud83d\\ude00", null, true], "a": 2}',
    b'{"n": 9223372036854775807, "m": -9223372036854775808}',
    b'{"n": 18446744073709551616, "m": -9223372036854775809}',
    b'{"f": 0.12345678901234567890123}',
    b"[99999999999999999999999999999, 1000000000000000000000]",
    b'{"x": NaN, "y": -Infinity}',
    b'{"s": "\\ud800"}',
    '{"utf16": "é"}'.encode("utf-16"),
    b"[" * 2000 + b"]" * 2000,
    b'{"big": 1e999}',
]


def read(body: bytes) -> Any:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    request = OrjsonRequest({"type": "http", "method": "POST", "headers": []}, receive)
    return asyncio.run(request.json())


@pytest.mark.parametrize("body", BODIES)
def test_a_body_reads_as_the_standard_library_reads_it(body: bytes) -> None:
    try:
        expected = json.loads(body)
    except (ValueError, RecursionError) as exc:
        with pytest.raises(type(exc)):
            read(body)
        return
    got = read(body)
    assert repr(got) == repr(expected)  # 1 and 1.0, -0.0 and 0.0, NaN, told apart


@pytest.mark.parametrize("body", [b"{", b'{"a": }', b""])
def test_a_body_that_is_no_json_fails_as_before(body: bytes) -> None:
    with pytest.raises(json.JSONDecodeError):
        read(body)
