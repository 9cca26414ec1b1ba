"""Creating a job only while no job of its kind is active, within a quota per time window.

The rule itself (which jobs are of one kind, how many per window) is the caller's; the check and
the creation are one write in the store, so concurrent requests cannot both create.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from jobyard.domain.entities import NewJob
from jobyard.domain.exclusive import ExclusiveOutcome, ExclusiveRule
from jobyard.notify.protocol import Notifier, queue_topic
from jobyard.service import metrics
from jobyard.service.auth import Principal
from jobyard.service.permissions import Op
from jobyard.store.protocol import Store


class ExclusiveJobs:
    def __init__(self, store: Store, notifier: Notifier) -> None:
        self.store = store
        self.notifier = notifier

    async def create(
        self, principal: Principal, new: NewJob, rule: ExclusiveRule
    ) -> ExclusiveOutcome:
        principal.require(Op.JOB_CREATE)
        outcome = await self.store.job_insert_exclusive(
            principal.tenant_id, principal.owner, new, rule
        )
        job = outcome.job
        if outcome.created and job is not None:
            if job.scheduled_at is None:
                await self.notifier.publish({queue_topic(job.tenant_id, job.queue)})
            metrics.JOBS_CREATED.labels(job.tenant_id, job.queue).inc()
        return outcome

    async def window(self, length: timedelta) -> tuple[datetime, datetime]:
        """The fixed window of `length` (a whole number of seconds dividing a day) that holds
        the database's now, as (start, end): hourly windows start on the hour."""
        now = await self.store.now()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        step = int(length.total_seconds())
        start = midnight + timedelta(seconds=int((now - midnight).total_seconds()) // step * step)
        return start, start + length
