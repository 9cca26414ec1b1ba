"""`jobyard serve` hands the GIL over sooner than CPython's default, once it has started."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from jobyard.cli import gil
from tests.support.lifespan import started_server


@pytest.fixture
def interval_restored() -> Iterator[None]:
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("interval_restored")
async def test_a_started_server_hands_the_gil_over_within_half_a_millisecond() -> None:
    sys.setswitchinterval(0.005)  # CPython's default
    async with started_server():
        assert sys.getswitchinterval() == pytest.approx(gil.SWITCH_INTERVAL_S)
    assert gil.SWITCH_INTERVAL_S <= 0.0005
