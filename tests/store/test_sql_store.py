"""Conformance: the database clock, tenants and API keys, on both backends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from jobyard.domain.entities import ApiKey, Tenant
from jobyard.domain.errors import Conflict
from jobyard.domain.ids import new_id
from jobyard.store import Store


def make_key(tenant_id: str, now: datetime, **fields: object) -> ApiKey:
    key_id = new_id()
    values: dict[str, object] = {
        "id": key_id,
        "tenant_id": tenant_id,
        "name": "ci",
        "role": "worker",
        "created_at": now,
        "prefix": "jy_" + key_id[-16:],
        "secret_hash": "ab" * 32,
        **fields,
    }
    return ApiKey(**values)  # type: ignore[arg-type]


async def test_the_clock_is_the_databases_in_utc(store: Store) -> None:
    first = await store.now()
    assert first.utcoffset() == timedelta(0)
    assert abs(first - datetime.now(UTC)) < timedelta(seconds=5)
    await asyncio.sleep(0.01)
    assert await store.now() > first


async def test_tenants(store: Store) -> None:
    assert await store.tenant_list() == []
    acme = await store.tenant_create("acme")
    globex = await store.tenant_create("globex")
    assert acme.id != globex.id
    assert (acme.name, globex.name) == ("acme", "globex")
    assert abs(acme.created_at - await store.now()) < timedelta(seconds=5)
    assert await store.tenant_get(acme.id) == acme
    assert await store.tenant_get(new_id()) is None
    assert [t.id for t in await store.tenant_list()] == [acme.id, globex.id]


async def test_a_tenant_name_is_taken_once(store: Store) -> None:
    first = await store.tenant_create("acme")
    with pytest.raises(Conflict) as info:
        await store.tenant_create("acme")
    assert info.value.details == {"field": "name"}

    answers = await asyncio.gather(
        *(store.tenant_create("globex") for _ in range(6)), return_exceptions=True
    )
    made = [a for a in answers if isinstance(a, Tenant)]
    assert len(made) == 1
    assert all(isinstance(a, Conflict) for a in answers if a not in made)
    assert [t.id for t in await store.tenant_list()] == [first.id, made[0].id]


async def test_a_key_is_found_by_its_prefix(store: Store, tenant_id: str) -> None:
    now = await store.now()
    key = make_key(
        tenant_id,
        now,
        role="admin",
        is_system=True,
        queues=["mail", "reports"],
        expires_at=now + timedelta(days=30),
    )
    await store.key_insert(key)
    assert await store.key_get_by_prefix(key.prefix) == key
    assert await store.key_get_by_prefix("jy_0000000000000000") is None


async def test_keys_are_listed_per_tenant_and_counted_over_all(
    store: Store, tenant_id: str, other_tenant_id: str
) -> None:
    assert await store.key_count() == 0
    now = await store.now()
    mine = [make_key(tenant_id, now + timedelta(seconds=i), name=f"k{i}") for i in range(3)]
    theirs = make_key(other_tenant_id, now)
    for key in [*mine, theirs]:
        await store.key_insert(key)
    assert await store.key_list(tenant_id) == mine
    assert await store.key_list(other_tenant_id) == [theirs]
    assert await store.key_list(new_id()) == []
    assert await store.key_count() == 4


async def test_a_key_is_revoked_once_and_only_by_its_tenant(
    store: Store, tenant_id: str, other_tenant_id: str
) -> None:
    key = make_key(tenant_id, await store.now())
    await store.key_insert(key)

    assert await store.key_revoke(other_tenant_id, key.id) is None
    found = await store.key_get_by_prefix(key.prefix)
    assert found is not None
    assert found.revoked_at is None

    revoked = await store.key_revoke(tenant_id, key.id)
    assert revoked is not None
    assert revoked.id == key.id
    assert revoked.revoked_at is not None
    assert abs(revoked.revoked_at - await store.now()) < timedelta(seconds=5)
    assert await store.key_get_by_prefix(key.prefix) == revoked

    assert await store.key_revoke(tenant_id, key.id) is None  # already revoked: nothing to do
    assert await store.key_revoke(tenant_id, new_id()) is None
    assert await store.key_count() == 1  # revoked keys are kept, so the first start stays done


async def test_a_key_is_got_by_its_tenant_and_expired_sooner_never_later(
    store: Store, tenant_id: str, other_tenant_id: str
) -> None:
    now = await store.now()
    key = make_key(tenant_id, now, type="aws-sigv4", subject="s1", things=["t1"])
    await store.key_insert(key)
    assert await store.key_get(tenant_id, key.id) == key
    assert await store.key_get(other_tenant_id, key.id) is None
    assert await store.key_expire(other_tenant_id, key.id, now) is None

    soon = now + timedelta(hours=1)
    expired = await store.key_expire(tenant_id, key.id, soon)
    assert expired is not None
    assert expired.expires_at == soon
    later = await store.key_expire(tenant_id, key.id, now + timedelta(days=1))
    assert later is not None
    assert later.expires_at == soon, "an end is only ever brought forward"
    await store.key_revoke(tenant_id, key.id)
    assert await store.key_expire(tenant_id, key.id, now) is None


async def test_sealed_secrets_sample_the_newest_of_each_kind(store: Store, tenant_id: str) -> None:
    assert await store.sealed_secrets() == []
    now = await store.now()
    await store.key_insert(make_key(tenant_id, now))  # an api key: nothing sealed
    assert await store.sealed_secrets() == []
    await store.key_insert(make_key(tenant_id, now, secret_enc="old"))
    await store.key_insert(make_key(tenant_id, now + timedelta(seconds=1), secret_enc="new"))
    await store.signing_key_add(tenant_id, new_id(), "signing")
    assert sorted(await store.sealed_secrets()) == ["new", "signing"]
