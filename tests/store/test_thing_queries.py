"""Conformance: the thing registry's conditional writes, and a thing's claim on the version it
read, on both backends."""

from __future__ import annotations

import asyncio

import pytest

from jobyard.domain.entities import ClaimRequest
from jobyard.domain.errors import Conflict
from jobyard.domain.states import ExecutionStatus
from jobyard.domain.things import ThingChanges
from jobyard.store import Store
from tests.store.builders import add_job, claim_one, report

ES = ExecutionStatus


def thing_claim(version: int) -> ClaimRequest:
    return ClaimRequest(queues=[], all_queues=True, targets=["pump"], expected_version=version)


async def test_a_claim_on_a_version_that_moved_on_claims_nothing(
    store: Store, tenant_id: str
) -> None:
    """The version a device read is a condition of the start itself: an execution claimed and
    handed back since (queued again, two versions on) is not started on the old one."""
    job = await add_job(store, tenant_id, targets=["pump"])
    read = (await store.execution_list(tenant_id, job.id))[0]
    taken = await claim_one(store, tenant_id)
    handed_back = await report(store, tenant_id, taken, ES.QUEUED)
    assert handed_back.applied
    assert handed_back.execution is not None
    assert handed_back.execution.status is ES.QUEUED

    assert await store.execution_claim(tenant_id, thing_claim(read.version)) == []
    (started,) = await store.execution_claim(tenant_id, thing_claim(handed_back.execution.version))
    assert started.execution.status is ES.IN_PROGRESS


async def test_concurrent_merges_of_a_thing_both_land(store: Store, tenant_id: str) -> None:
    await store.thing_create(tenant_id, "pump", None, {"a": "1"})
    await asyncio.gather(
        *(
            store.thing_update(
                tenant_id, "pump", ThingChanges(attributes={f"k{i}": str(i)}, merge=True)
            )
            for i in range(5)
        )
    )
    thing = await store.thing_get(tenant_id, "pump")
    assert thing is not None
    assert thing.attributes == {"a": "1", **{f"k{i}": str(i) for i in range(5)}}
    assert thing.version == 6


async def test_registry_writes_name_the_version_and_the_tenant(
    store: Store, tenant_id: str, other_tenant_id: str
) -> None:
    await store.thing_create(tenant_id, "pump", None, {})
    with pytest.raises(Conflict) as stale:
        await store.thing_update(tenant_id, "pump", ThingChanges(expected_version=9))
    assert stale.value.details["reason"] == "version_mismatch"
    with pytest.raises(Conflict):
        await store.thing_delete(tenant_id, "pump", 9)
    assert await store.thing_update(other_tenant_id, "pump", ThingChanges()) is None
    assert await store.thing_delete(other_tenant_id, "pump", None) == []
    assert await store.thing_get(tenant_id, "pump") is not None
    assert await store.thing_delete(tenant_id, "pump", 1) == []
    assert await store.thing_get(tenant_id, "pump") is None

    group = await store.thing_group_create(tenant_id, "hall", None, {})
    assert not await store.thing_group_delete(other_tenant_id, "hall", None)
    with pytest.raises(Conflict):
        await store.thing_group_delete(tenant_id, "hall", group.version + 1)
    assert await store.thing_group_delete(tenant_id, "hall", group.version)
    assert await store.thing_group_get(tenant_id, "hall") is None
