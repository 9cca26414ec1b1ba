"""Jobs listed with their family's totals (see `jobyard.domain.families`).

The totals are summed in the query, one correlated sum per counter over the job's children (the
`(tenant_id, parent_id)` index finds them), so that conditions on the totals filter, order and
page as any other condition does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from jobyard.domain.entities import COUNTERS
from jobyard.domain.families import FamilyJob
from jobyard.domain.filters import JobFilter
from jobyard.store.job_queries import JobQueries, _job_and_latest, _job_with_latest
from jobyard.store.tables import jobs

_TOTAL = "total_"


def _totals() -> dict[str, sa.ColumnElement[Any]]:
    """Each counter of a job plus the sum of its direct children's."""
    kids = jobs.alias("kids")
    return {
        name: jobs.c[name]
        + sa.func.coalesce(
            sa.select(sa.cast(sa.func.sum(kids.c[name]), sa.BigInteger))
            .where(kids.c.tenant_id == jobs.c.tenant_id, kids.c.parent_id == jobs.c.id)
            .scalar_subquery(),
            0,
        )
        for name in COUNTERS
    }


class FamilyQueries(JobQueries):
    async def job_list_family_totals(
        self,
        tenant_id: str,
        flt: JobFilter,
        *,
        top_level_only: bool = False,
        excluded_types: Sequence[str] = (),
    ) -> list[FamilyJob]:
        """Jobs as `job_list` finds them, but with the counter bounds of `flt` applied to the
        totals; `top_level_only` keeps jobs without a parent, `excluded_types` leaves types out.
        """
        totals = _totals()
        own = dataclasses.replace(flt, counters_gte={}, counters_lte={})
        conds = self._list_conditions(tenant_id, own)
        if top_level_only:
            conds.append(jobs.c.parent_id.is_(None))
        if excluded_types:
            conds.append(jobs.c.type.not_in(list(excluded_types)))
        conds += [totals[name] >= n for name, n in flt.counters_gte.items()]
        conds += [totals[name] <= n for name, n in flt.counters_lte.items()]
        stmt = (
            _job_with_latest()
            .add_columns(*(total.label(_TOTAL + name) for name, total in totals.items()))
            .where(*conds)
            .order_by(jobs.c.id.desc())
            .limit(flt.limit)
        )
        async with self._read() as conn:
            found = (await conn.execute(stmt)).mappings()
            return [
                FamilyJob(_job_and_latest(r), {n: int(r[_TOTAL + n]) for n in COUNTERS})
                for r in found
            ]
