"""Conformance: record errors and URL signing keys, on both backends."""

from __future__ import annotations

from jobyard.domain.entities import NewRecordError
from jobyard.domain.ids import new_id
from jobyard.store import Store
from tests.store.builders import add_job, claim_one


def errors(n: int) -> list[NewRecordError]:
    return [
        NewRecordError(
            f"bad record {i}", code="E1", source="import", data={"row": i}, retriable=i % 2 == 0
        )
        for i in range(n)
    ]


async def test_append_page_and_resolve(store: Store, tenant_id: str) -> None:
    job = await add_job(store, tenant_id)
    await claim_one(store, tenant_id)
    assert await store.record_error_append(tenant_id, job.id, 1, errors(5)) == 5
    first = await store.record_error_list(tenant_id, job.id, after_id=None, limit=3)
    rest = await store.record_error_list(tenant_id, job.id, after_id=first[-1].id, limit=3)
    assert [e.data for e in first + rest] == [{"row": i} for i in range(5)]
    assert [e.retriable for e in first] == [True, False, True]
    assert await store.record_error_resolve(tenant_id, job.id, [first[0].id]) == 1
    assert await store.record_error_resolve(tenant_id, job.id, [first[0].id]) == 0
    open_ = await store.record_error_list(
        tenant_id, job.id, after_id=None, limit=10, resolved=False
    )
    assert len(open_) == 4
    assert await store.record_error_resolve(tenant_id, job.id, None) == 4
    done = await store.record_error_list(tenant_id, job.id, after_id=None, limit=10, resolved=True)
    assert len(done) == 5
    assert all(e.resolved_at is not None for e in done)


async def test_errors_stay_in_their_tenant(
    store: Store, tenant_id: str, other_tenant_id: str
) -> None:
    job = await add_job(store, tenant_id)
    await claim_one(store, tenant_id)
    assert await store.record_error_append(other_tenant_id, job.id, 1, errors(1)) is None
    await store.record_error_append(tenant_id, job.id, 1, errors(2))
    assert await store.record_error_list(other_tenant_id, job.id, after_id=None, limit=9) == []
    assert await store.record_error_resolve(other_tenant_id, job.id, None) == 0


async def test_signing_keys_are_per_tenant_and_retired_together(
    store: Store, tenant_id: str, other_tenant_id: str
) -> None:
    assert await store.signing_key_get(tenant_id) is None
    first, second = new_id(), new_id()
    assert await store.signing_key_add(tenant_id, first, "sealed-1") == 0
    assert await store.signing_key_get(tenant_id) == (first, "sealed-1")
    assert await store.signing_key_add(tenant_id, second, "sealed-2") == 0
    assert await store.signing_key_get(tenant_id) == (second, "sealed-2"), "the newest"
    assert await store.signing_key_get(tenant_id, first) == (first, "sealed-1")
    assert await store.signing_key_get(other_tenant_id) is None
    assert await store.signing_key_get(other_tenant_id, first) is None

    third = new_id()
    assert await store.signing_key_add(tenant_id, third, "sealed-3", retire_others=True) == 2
    assert await store.signing_key_get(tenant_id, first) is None
    assert await store.signing_key_get(tenant_id, second) is None
    assert await store.signing_key_get(tenant_id) == (third, "sealed-3")


async def test_any_json_value_is_kept_as_the_record(store: Store, tenant_id: str) -> None:
    job = await add_job(store, tenant_id)
    await claim_one(store, tenant_id)
    values = [5, 2.5, "text", "12", True, None, [1, "a"], {"nested": {"x": [None]}}]
    records = [NewRecordError("bad", data=v) for v in values]
    await store.record_error_append(tenant_id, job.id, 1, records)
    got = await store.record_error_list(tenant_id, job.id, after_id=None, limit=100)
    assert [e.data for e in got] == values
