"""Who may change a job: admins any job of the tenant; members the jobs they own or were made
collaborators on (the rule of Posit Connect: owner, collaborators, admins); sharing a job is
its owner's alone."""

from __future__ import annotations

from jobyard.domain.entities import Job
from jobyard.domain.errors import Forbidden, NotFound
from jobyard.domain.ids import is_id
from jobyard.service.auth import Principal
from jobyard.service.permissions import OWNED_OPS, OWNER_ONLY_OPS, Op, Role
from jobyard.store.protocol import Store


async def may_change(store: Store, principal: Principal, job_id: str, op: Op) -> Job:
    """Raises unless the caller may do `op` to the job: 403 by role first, then 404 for a job
    the tenant does not have, then 403 for a member's job it may not touch. Answers the job.

    The job is read before the write that follows: its owner never changes, and a collaborator
    removed between the two reads loses the race by milliseconds, as in any permission check."""
    principal.require(op)
    job = await store.job_get(principal.tenant_id, job_id) if is_id(job_id) else None
    if job is None:
        raise NotFound("job not found", job_id=job_id)
    if principal.role is Role.ADMIN or op not in OWNED_OPS | OWNER_ONLY_OPS:
        return job
    if op in OWNER_ONLY_OPS:
        if job.owner != principal.owner:
            raise Forbidden("only admins and the job's owner may share it")
    elif principal.owner not in {job.owner, *job.collaborators}:
        raise Forbidden("only admins, the job's owner and its collaborators may change it")
    return job
