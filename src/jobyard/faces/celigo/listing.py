"""Listings through the job service: integrator.io's 1,001 newest, and a flow job's children."""

from __future__ import annotations

from jobyard.domain.entities import Job
from jobyard.domain.filters import MAX_PAGE, JobFilter
from jobyard.faces.celigo.jobs_query import MAX_RESULTS, JobsQuery
from jobyard.service.auth import Principal
from jobyard.service.permissions import Op
from jobyard.service.runtime import Jobyard


async def find_jobs(jy: Jobyard, principal: Principal, q: JobsQuery) -> list[Job]:
    """Newest first, at most 1,001. Each label set (one per `_flowId_in` value) is listed on its
    own, page by page, and the lists merged."""
    if q.empty():
        principal.require(Op.JOB_READ)
        return []
    found: dict[str, Job] = {}
    for labels in q.label_sets:
        before: str | None = None
        got = 0
        while got < MAX_RESULTS:
            flt = JobFilter(
                statuses=sorted(q.statuses) if q.statuses is not None else [],
                types=q.types,
                labels=labels,
                parent_ids=q.parent_ids,
                created_at_gte=q.created_at_gte,
                created_at_lte=q.created_at_lte,
                counters_gte=q.counters_gte,
                counters_lte=q.counters_lte,
                limit=min(MAX_PAGE, MAX_RESULTS - got),
                before_id=before,
            )
            page = await jy.jobs.find(principal, flt)
            found.update((j.id, j) for j in page)
            got += len(page)
            if len(page) < flt.limit:
                break
            before = page[-1].id
    return sorted(found.values(), key=lambda j: j.id, reverse=True)[:MAX_RESULTS]


async def children_of(jy: Jobyard, principal: Principal, job_id: str) -> list[Job]:
    """The export and import jobs of a flow job (newest first, at most 1,000)."""
    return await jy.jobs.find(principal, JobFilter(parent_ids=[job_id], limit=MAX_PAGE))
