"""Listings through the services: integrator.io's 1,001 newest, and a flow job's children.

Jobs are read with their family's totals (`JobFamilies`): a flow job shows its own counters
plus those of its export and import jobs, as integrator.io shows a flow run's.
"""

from __future__ import annotations

from jobyard.domain.entities import Job
from jobyard.domain.families import FamilyJob
from jobyard.domain.filters import MAX_PAGE, JobFilter
from jobyard.faces.celigo.ids import CHILD_TYPES
from jobyard.faces.celigo.jobs_query import MAX_RESULTS, JobsQuery
from jobyard.service.auth import Principal
from jobyard.service.job_families import JobFamilies
from jobyard.service.permissions import Op
from jobyard.service.runtime import Jobyard


async def find_jobs(jy: Jobyard, principal: Principal, q: JobsQuery) -> list[FamilyJob]:
    """Newest first, at most 1,001. Each label set (one per `_flowId_in` value) is listed on its
    own, page by page, and the lists merged."""
    if q.empty():
        principal.require(Op.JOB_READ)
        return []
    families = JobFamilies(jy.store)
    found: dict[str, FamilyJob] = {}
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
            page = await families.find(
                principal,
                flt,
                top_level_only=q.parents_only,
                excluded_types=sorted(CHILD_TYPES) if q.parents_only else (),
            )
            found.update((f.job.id, f) for f in page)
            got += len(page)
            if len(page) < flt.limit:
                break
            before = page[-1].job.id
    return sorted(found.values(), key=lambda f: f.job.id, reverse=True)[:MAX_RESULTS]


async def one_job(jy: Jobyard, principal: Principal, job_id: str) -> FamilyJob:
    """One job with its totals; NotFound as the job service answers it."""
    return await JobFamilies(jy.store).get(principal, job_id)


async def family_of(jy: Jobyard, principal: Principal, job_id: str) -> list[FamilyJob]:
    """The export and import jobs of a flow job, with their totals (newest first, at most
    1,000)."""
    flt = JobFilter(parent_ids=[job_id], limit=MAX_PAGE)
    return await JobFamilies(jy.store).find(principal, flt)


async def children_of(jy: Jobyard, principal: Principal, job_id: str) -> list[Job]:
    """The export and import jobs of a flow job (newest first, at most 1,000)."""
    return await jy.jobs.find(principal, JobFilter(parent_ids=[job_id], limit=MAX_PAGE))
