"""The harness's order of runs: every system once a repetition, reversed every other one."""

from __future__ import annotations

from bench.harness.runner import rounds_order
from bench.systems import all_systems


def test_every_other_repetition_runs_the_systems_in_reverse() -> None:
    systems = all_systems()
    orders = [[s.name for s in rounds_order(systems, rep)] for rep in (1, 2, 3, 4)]
    given = [s.name for s in systems]
    assert orders == [given, given[::-1], given, given[::-1]]
    assert (given[0], given[-1]) == ("jobyard-sqlite", "pgqueuer")
