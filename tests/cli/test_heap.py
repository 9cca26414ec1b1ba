"""The collector's settings for `jobyard serve` and `jobyard worker`."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from jobyard.cli import heap


@pytest.fixture
def collector_restored() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("collector_restored")
def test_what_was_loaded_is_set_aside_and_young_objects_are_collected_less_often() -> None:
    _, middle, old = gc.get_threshold()
    heap.settle()
    assert gc.get_freeze_count() > 1000  # the modules and everything else loaded so far
    assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, middle, old)
    # cycles are still collected
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1
