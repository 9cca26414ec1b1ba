"""A job seen with its family: its own counters plus those of its direct children.

Some products show a run of several jobs (a flow run and its export and import jobs) as one
parent job whose counters are the run's totals. The core keeps each job's own counters; the
totals are summed when such a product reads them, so that nothing has to keep them in step.
"""

from __future__ import annotations

from dataclasses import dataclass

from jobyard.domain.entities import Job


@dataclass(slots=True)
class FamilyJob:
    """`totals` holds, for every counter, the job's own value plus its direct children's."""

    job: Job
    totals: dict[str, int]
