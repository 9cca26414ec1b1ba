"""Reading jobs with their family's totals: a parent job's counters as its own plus its
children's (see `jobyard.domain.families`), for the faces whose products show them so."""

from __future__ import annotations

from collections.abc import Sequence

from jobyard.domain.errors import NotFound
from jobyard.domain.families import FamilyJob
from jobyard.domain.filters import JobFilter
from jobyard.domain.ids import is_id
from jobyard.service.auth import Principal
from jobyard.service.permissions import Op
from jobyard.store.protocol import Store


class JobFamilies:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, principal: Principal, job_id: str) -> FamilyJob:
        principal.require(Op.JOB_READ)
        found = (
            await self.store.job_list_family_totals(
                principal.tenant_id, JobFilter(ids=[job_id], limit=1)
            )
            if is_id(job_id)
            else []
        )
        if not found:
            raise NotFound("job not found", job_id=job_id)
        return found[0]

    async def find(
        self,
        principal: Principal,
        flt: JobFilter,
        *,
        top_level_only: bool = False,
        excluded_types: Sequence[str] = (),
    ) -> list[FamilyJob]:
        """Newest first; the counter bounds of `flt` apply to the totals. `top_level_only` keeps
        jobs without a parent, `excluded_types` leaves those types out."""
        principal.require(Op.JOB_READ)
        if not all(is_id(i) for i in (*flt.parent_ids, *flt.ids)):
            return []  # an id that is not one names no job
        return await self.store.job_list_family_totals(
            principal.tenant_id, flt, top_level_only=top_level_only, excluded_types=excluded_types
        )
