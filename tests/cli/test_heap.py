"""The collector's settings for `jobyard serve` and `jobyard worker`."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from jobyard.cli import heap
from tests.support.lifespan import started_server


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


@pytest.mark.usefixtures("collector_restored")
async def test_what_the_servers_start_made_is_set_aside_once_it_has_started() -> None:
    """`jobyard serve` settles again after the app's start (its store, the migrations' leftovers):
    the collector's full passes would otherwise walk all of it while requests wait."""
    made: list[object] = []
    gc.unfreeze()
    async with started_server(lambda: made.extend({"n": i} for i in range(20_000))):
        assert len(made) == 20_000  # what a store's start keeps
        assert gc.get_freeze_count() > 20_000  # made during the start, and set aside
