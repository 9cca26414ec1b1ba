"""The store-level benchmark of a batch of ends runs on both backends and prints a cost a job
for each shape of end it was asked for."""

from __future__ import annotations

import re

import pytest

from bench import end_batches
from tests.support import databases

SHAPES = "plain,steps+progress,followed"
COST = re.compile(r"^  (\S+) +\d+\.\d µs a job on the clock, this process +\d+\.\d(, PostgreSQL)?")


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_each_shape_is_measured(backend: str, capsys: pytest.CaptureFixture[str]) -> None:
    if backend == "postgres":
        databases.require_pg()
    argv = ["--backend", backend, "--shapes", SHAPES, "--batch", "5", "--rounds", "2"]
    argv += ["--warmup", "1", "--pg-admin-url", databases.PG_ADMIN_URL]
    assert end_batches.main(argv) == 0
    lines = [m for line in capsys.readouterr().out.splitlines() if (m := COST.match(line))]
    assert [m[1] for m in lines] == SHAPES.split(",")
    assert all(bool(m[2]) == (backend == "postgres") for m in lines)


def test_an_unknown_part_is_refused() -> None:
    with pytest.raises(SystemExit, match="unknown parts"):
        end_batches.main(["--backend", "sqlite", "--shapes", "steps+colour"])
