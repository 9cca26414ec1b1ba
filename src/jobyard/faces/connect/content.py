"""A content item as the set of the tenant's jobs labelled `content_guid=<guid>`, read through
the job service (so roles and tenants hold as everywhere)."""

from __future__ import annotations

from jobyard.domain.entities import Job
from jobyard.domain.errors import NotFound
from jobyard.domain.filters import MAX_PAGE, JobFilter
from jobyard.faces.connect.wire import CONTENT_LABEL
from jobyard.service.auth import Principal
from jobyard.service.runtime import Jobyard

MAX_GUID = 1000  # a label value's longest


def _check(guid: str) -> None:
    if not guid or len(guid) > MAX_GUID or "\x00" in guid:
        raise NotFound("The requested object does not exist.")


async def content_jobs(jy: Jobyard, principal: Principal, guid: str) -> list[Job]:
    """Every job of the content, newest first; 404 when it has none (no such content)."""
    _check(guid)
    jobs: list[Job] = []
    before: str | None = None
    while True:
        flt = JobFilter(labels={CONTENT_LABEL: guid}, limit=MAX_PAGE, before_id=before)
        page = await jy.jobs.find(principal, flt)
        jobs.extend(page)
        if len(page) < MAX_PAGE:
            break
        before = page[-1].id
    if not jobs:
        raise NotFound("The requested object does not exist.")
    return jobs


async def content_job(jy: Jobyard, principal: Principal, guid: str, key: str) -> Job:
    """One job of the content; 404 when the key names no job, or another content's."""
    _check(guid)
    try:
        job = await jy.jobs.get(principal, key)
    except NotFound:
        job = None
    if job is None or job.labels.get(CONTENT_LABEL) != guid:
        raise NotFound("The requested object does not exist.")
    return job
