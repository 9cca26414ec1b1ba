"""Job use cases: create (one or a batch, idempotent), read, list, cancel, retry, share."""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from datetime import datetime

import orjson

from jobyard.domain.entities import Execution, Job, KillOrder, NewJob
from jobyard.domain.errors import InvalidInput, NotFound, PayloadTooLarge
from jobyard.domain.filters import MAX_PAGE, JobFilter
from jobyard.domain.ids import is_id
from jobyard.domain.states import TERMINAL_EXECUTION, JobStatus
from jobyard.notify.protocol import Notifier, kill_topic, queue_topic
from jobyard.service import metrics
from jobyard.service.auth import Principal
from jobyard.service.executions import EndedListeners
from jobyard.service.ownership import may_change
from jobyard.service.permissions import Op
from jobyard.store.protocol import Store

MAX_BATCH = 1000
MAX_COLLABORATORS = 100


_HASHED_FIELDS = tuple(f.name for f in dataclasses.fields(NewJob) if f.name != "idempotency_key")


def request_hash(new: NewJob) -> str:
    """A digest of what was asked, so a repeated idempotency key can be told apart from a reuse.
    (The fields as they are: `dataclasses.asdict` would copy every value first, for the same
    JSON.)"""
    body = {name: getattr(new, name) for name in _HASHED_FIELDS}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()


class JobService:
    def __init__(
        self, store: Store, notifier: Notifier, ended: EndedListeners | None = None
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.ended = ended if ended is not None else EndedListeners()

    async def create(self, principal: Principal, new_jobs: list[NewJob]) -> list[tuple[Job, bool]]:
        """Create jobs in one transaction; answers each with True when it is new."""
        principal.require(Op.JOB_CREATE)
        if not new_jobs:
            raise InvalidInput("at least one job is required", field="jobs")
        if len(new_jobs) > MAX_BATCH:
            raise PayloadTooLarge(f"at most {MAX_BATCH} jobs in one batch", field="jobs")
        await self._check_parents(principal, new_jobs)
        await self._check_subjects(principal, [c for j in new_jobs for c in j.collaborators])
        created = await self.store.job_insert_many(
            principal.tenant_id,
            principal.owner,
            [(j, request_hash(j) if j.idempotency_key else None) for j in new_jobs],
        )
        topics = {
            queue_topic(job.tenant_id, job.queue)
            for job, is_new in created
            if is_new and job.scheduled_at is None
        }
        await self.notifier.publish(topics)
        made = Counter((job.tenant_id, job.queue) for job, is_new in created if is_new)
        for (tenant_id, queue), n in made.items():
            metrics.JOBS_CREATED.labels(tenant_id, queue).inc(n)
        return created

    async def _check_parents(self, principal: Principal, new_jobs: list[NewJob]) -> None:
        """A parent must be a job of the same tenant: a dangling or foreign parent_id would link
        to something the caller cannot see."""
        parents = {j.parent_id for j in new_jobs if j.parent_id is not None}
        if not parents:
            return
        bad = sorted(p for p in parents if not is_id(p))
        if not bad:
            found = await self.store.job_list(
                principal.tenant_id, JobFilter(ids=sorted(parents), limit=MAX_PAGE)
            )
            bad = sorted(parents - {job.id for job in found})
        if bad:
            raise InvalidInput(f"parent_id {bad[0]!r} names no job", field="parent_id")

    async def _check_subjects(self, principal: Principal, subjects: list[str]) -> None:
        """Collaborators are key subjects of the tenant (`GET /v1/me` tells a key its own)."""
        if not subjects:
            return
        keys = await self.store.key_list(principal.tenant_id)
        known = {k.owner for k in keys if k.revoked_at is None}
        unknown = sorted(set(subjects) - known)
        if unknown:
            raise InvalidInput(
                f"collaborator {unknown[0]!r} is not the subject of a live key of this tenant",
                field="collaborators",
            )

    async def share(self, principal: Principal, job_id: str, collaborators: list[str]) -> Job:
        """Replace the job's collaborators: the keys (by subject) that may cancel and retry it."""
        await may_change(self.store, principal, job_id, Op.JOB_SHARE)
        if len(collaborators) > MAX_COLLABORATORS:
            raise InvalidInput(f"at most {MAX_COLLABORATORS} collaborators", field="collaborators")
        await self._check_subjects(principal, collaborators)
        job = await self.store.job_set_collaborators(
            principal.tenant_id, job_id, sorted(set(collaborators))
        )
        if job is None:
            raise NotFound("job not found", job_id=job_id)
        return job

    async def get(self, principal: Principal, job_id: str) -> Job:
        principal.require(Op.JOB_READ)
        job = await self.store.job_get(principal.tenant_id, job_id) if is_id(job_id) else None
        if job is None:
            raise NotFound("job not found", job_id=job_id)
        return job

    async def find(self, principal: Principal, flt: JobFilter) -> list[Job]:
        principal.require(Op.JOB_READ)
        for pid in flt.parent_ids:
            if not is_id(pid):
                return []
        return await self.store.job_list(principal.tenant_id, flt)

    async def executions(self, principal: Principal, job_id: str) -> list[Execution]:
        await self.get(principal, job_id)
        return await self.store.execution_list(principal.tenant_id, job_id)

    async def cancel(
        self, principal: Principal, job_id: str, reason: str | None, force: bool, now: datetime
    ) -> Job:
        await may_change(self.store, principal, job_id, Op.JOB_CANCEL)
        order = KillOrder(
            requested_at=now, requested_by=principal.key_id, force=force, reason=reason
        )
        job = await self.store.job_cancel(principal.tenant_id, job_id, order)
        latest = job.latest_execution
        holder = latest.worker_id if latest else None
        if job.status is JobStatus.CANCELING and holder:
            await self.notifier.publish({kill_topic(job.tenant_id, holder)})  # wake its poll
        if latest is not None and latest.status in TERMINAL_EXECUTION:
            await self.ended.notify([latest])  # canceled at once: whoever follows it hears now
        return job

    async def retry(self, principal: Principal, job_id: str) -> Job:
        await may_change(self.store, principal, job_id, Op.JOB_RETRY)
        job = await self.store.job_retry(principal.tenant_id, job_id)
        await self.notifier.publish({queue_topic(job.tenant_id, job.queue)})
        return job
