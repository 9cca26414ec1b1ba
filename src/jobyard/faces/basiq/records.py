"""Basiq's users and connections over the core: users in their own table (through
`jobyard.service.basiq_users`), connections as the core's jobs.

- A **connection job** (type `basiq.connection`, queue `basiq`, one attempt) is what creating,
  updating or refreshing a connection starts: labels `user_id`, `connection_id`,
  `institution_id`; steps `verify-credentials`, `retrieve-accounts`, `retrieve-transactions`;
  params `{"action", "userId", "connectionId", "institution": {"id"}, "loginId"}`. The password
  is never kept. A connection is what its jobs say, the newest first.
- A **user** is a row of the tenant's Basiq users (email, mobile, names); it is never a job.
"""

from __future__ import annotations

import re
from typing import Any

from jobyard.domain.basiq_users import BasiqUser
from jobyard.domain.entities import Job, NewJob
from jobyard.domain.errors import NotFound
from jobyard.domain.filters import MAX_PAGE, JobFilter
from jobyard.domain.ids import new_id
from jobyard.faces.basiq.filters import JobsQuery
from jobyard.faces.basiq.wire import CONNECTION_TYPE, STEPS
from jobyard.service.auth import Principal
from jobyard.service.basiq_users import BasiqUserService
from jobyard.service.runtime import Jobyard

CONNECTION_QUEUE = "basiq"
PATH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")


def check_id(value: str, what: str) -> str:
    """An id from the path; one that cannot name anything answers 404, as Basiq does."""
    if not PATH_ID.match(value):
        raise NotFound(f"{what} not found")
    return value


def users(jy: Jobyard) -> BasiqUserService:
    return BasiqUserService(jy.store)


async def known_user(jy: Jobyard, caller: Principal, user_id: str) -> BasiqUser:
    """The user; 404 when the tenant has none of that id (or it was deleted)."""
    return await users(jy).get(caller, check_id(user_id, "user"))


def new_connection_id() -> str:
    return new_id()


async def connection_jobs(
    jy: Jobyard, caller: Principal, user_id: str, connection_id: str | None = None
) -> list[Job]:
    labels = {"user_id": user_id}
    if connection_id is not None:
        labels["connection_id"] = connection_id
    flt = JobFilter(types=[CONNECTION_TYPE], labels=labels, limit=MAX_PAGE)
    return await jy.jobs.find(caller, flt)


def by_connection(jobs: list[Job]) -> dict[str, list[Job]]:
    """Jobs grouped by connection id, each group newest first, groups by their newest job."""
    groups: dict[str, list[Job]] = {}
    for job in jobs:
        cid = job.labels.get("connection_id")
        if cid:
            groups.setdefault(cid, []).append(job)
    return groups


async def user_jobs(jy: Jobyard, caller: Principal, user_id: str, query: JobsQuery) -> list[Job]:
    """The user's jobs (every job labelled with it), newest update first."""
    if query.empty:
        return []
    flt = JobFilter(
        labels={"user_id": user_id, **query.labels},
        created_at_gte=query.gte.get("created"),
        created_at_lte=query.lte.get("created"),
        updated_at_gte=query.gte.get("updated"),
        updated_at_lte=query.lte.get("updated"),
        limit=MAX_PAGE,
    )
    jobs = await jy.jobs.find(caller, flt)
    return sorted(jobs, key=lambda j: (j.updated_at, j.id), reverse=True)


def connection_job(
    action: str, user_id: str, connection_id: str, institution_id: str, login_id: str | None
) -> NewJob:
    params: dict[str, Any] = {
        "action": action,
        "userId": user_id,
        "connectionId": connection_id,
        "institution": {"id": institution_id},
    }
    if login_id is not None:
        params["loginId"] = login_id
    return NewJob(
        type=CONNECTION_TYPE,
        queue=CONNECTION_QUEUE,
        labels={
            "user_id": user_id,
            "connection_id": connection_id,
            "institution_id": institution_id,
        },
        params=params,
        steps=list(STEPS),
        max_attempts=1,  # a Basiq job runs once; a refresh is a new job
    )


def again(action: str, latest: Job) -> NewJob:
    """A new job for an existing connection, from its newest job."""
    login = latest.params.get("loginId")
    return connection_job(
        action,
        latest.labels["user_id"],
        latest.labels["connection_id"],
        latest.labels.get("institution_id", ""),
        login if isinstance(login, str) else None,
    )


async def start(jy: Jobyard, caller: Principal, jobs: list[NewJob]) -> list[Job]:
    return [job for job, _ in await jy.jobs.create(caller, jobs)]
