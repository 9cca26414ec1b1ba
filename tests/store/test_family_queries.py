"""Jobs listed with their family's totals (a job's counters plus its direct children's), on
both backends: what is shown and what the counter bounds, the scope and the paging see."""

from __future__ import annotations

from jobyard.domain.filters import JobFilter
from jobyard.store import Store
from tests.store.builders import add_job, set_counters


async def test_a_parent_shows_its_own_counters_plus_its_childrens(
    store: Store, tenant_id: str, other_tenant_id: str
) -> None:
    flow = await add_job(store, tenant_id, type="flow")
    export = await add_job(store, tenant_id, type="export", parent_id=flow.id)
    imp = await add_job(store, tenant_id, type="import", parent_id=flow.id)
    lone = await add_job(store, tenant_id, type="flow")
    await set_counters(store, flow.id, num_ignore=1)
    await set_counters(store, export.id, num_export=3, num_success=3, num_pages=1)
    await set_counters(store, imp.id, num_success=2, num_error=1, num_pages=1)

    found = await store.job_list_family_totals(tenant_id, JobFilter())
    totals = {f.job.id: f.totals for f in found}
    assert [f.job.id for f in found] == [lone.id, imp.id, export.id, flow.id]  # newest first
    assert totals[flow.id] == {
        "num_success": 5,
        "num_error": 1,
        "num_ignore": 1,
        "num_export": 3,
        "num_pages": 2,
    }
    assert totals[export.id]["num_success"] == 3  # no children: its own
    assert totals[lone.id] == dict.fromkeys(totals[lone.id], 0)
    flow_job = next(f.job for f in found if f.job.id == flow.id)
    assert flow_job.counters["num_success"] == 0  # the job itself keeps its own

    # Counter bounds apply to the totals; the scope keeps parents, or leaves types out.
    bounded = JobFilter(counters_gte={"num_success": 4}, counters_lte={"num_pages": 2})
    assert [f.job.id for f in await store.job_list_family_totals(tenant_id, bounded)] == [flow.id]
    parents = await store.job_list_family_totals(
        tenant_id, JobFilter(), top_level_only=True, excluded_types=["export", "import"]
    )
    assert [f.job.id for f in parents] == [lone.id, flow.id]
    children = await store.job_list_family_totals(tenant_id, JobFilter(parent_ids=[flow.id]))
    assert [f.job.id for f in children] == [imp.id, export.id]
    one = await store.job_list_family_totals(tenant_id, JobFilter(ids=[flow.id], limit=1))
    assert [f.totals["num_success"] for f in one] == [5]
    page = await store.job_list_family_totals(tenant_id, JobFilter(limit=2, before_id=imp.id))
    assert [f.job.id for f in page] == [export.id, flow.id]

    # Another tenant sees none of it, and a child of another tenant adds nothing.
    assert await store.job_list_family_totals(other_tenant_id, JobFilter()) == []
    stranger = await add_job(store, other_tenant_id, type="import", parent_id=flow.id)
    await set_counters(store, stranger.id, num_success=100)
    (again,) = await store.job_list_family_totals(tenant_id, JobFilter(ids=[flow.id]))
    assert again.totals["num_success"] == 5
