"""Exclusive creation: a job made only while no active job of its kind exists, within a quota.

Some products allow one running job of a kind per account (a sync per connection) and a number
of them per time window. The store decides both in the same write that creates the job, so two
concurrent requests cannot both pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from jobyard.domain.entities import Job
from jobyard.domain.states import TERMINAL_JOB, JobStatus

# A job in one of these has not ended: it still stands for its kind.
ACTIVE_JOB: frozenset[JobStatus] = frozenset(set(JobStatus) - TERMINAL_JOB)


@dataclass(slots=True)
class ExclusiveRule:
    """Jobs of the new job's type carrying all of `labels` are of one kind. While one is active,
    it is answered instead of a new one; and at most `quota` of them may be created from
    `window_start` on (no limit when `quota` is None)."""

    labels: dict[str, str] = field(default_factory=dict)
    quota: int | None = None
    window_start: datetime | None = None

    def __post_init__(self) -> None:
        if self.quota is not None and self.window_start is None:
            raise ValueError("a quota needs the start of its window")


@dataclass(slots=True)
class ExclusiveOutcome:
    """The job created, or the active one found (`created` False), or neither when the quota
    was spent; `used` counts the jobs of the kind created in the window, the new one included."""

    job: Job | None
    created: bool
    used: int = 0
