"""The store-level benchmark of a job's phases runs on PostgreSQL, schema changes first, and
prints PostgreSQL's CPU a job for create, claim and end."""

from __future__ import annotations

import re

import asyncpg
import pytest

from bench import job_phases
from tests.support import databases

COST = re.compile(
    r"^PostgreSQL's CPU a job, (\S+) jobs: create (\d+\.\d), claim (\d+\.\d), end (\d+\.\d);"
)

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("how", [[], ["--deep"], ["--keyed"]])
def test_each_phase_is_measured(how: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    databases.require_pg()
    argv = ["--batch", "30", "--claim", "7", "--rounds", "2", "--warmup", "1"]
    argv += ["--pg-admin-url", databases.PG_ADMIN_URL, "--sql", "DROP INDEX ix_jobs_tenant_type"]
    assert job_phases.main(argv + how) == 0
    [found] = [m for line in capsys.readouterr().out.splitlines() if (m := COST.match(line))]
    assert found[1] == "60"
    assert all(float(found[k]) > 0 for k in (2, 3, 4))


def test_a_statement_that_fails_stops_the_run() -> None:
    databases.require_pg()
    argv = ["--rounds", "1", "--pg-admin-url", databases.PG_ADMIN_URL, "--sql", "DROP INDEX nope"]
    with pytest.raises(asyncpg.UndefinedObjectError, match="nope"):
        job_phases.main(argv)


def test_sizes_below_one_are_refused() -> None:
    with pytest.raises(SystemExit, match="at least 1"):
        job_phases.main(["--claim", "0"])
