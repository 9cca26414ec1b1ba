"""Conformance: the Basiq face's users, on both backends."""

from __future__ import annotations

from jobyard.domain.basiq_users import BasiqProfile
from jobyard.domain.filters import JobFilter
from jobyard.domain.ids import new_id
from jobyard.store import Store


async def test_create_get_update_delete(store: Store, tenant_id: str) -> None:
    made = await store.basiq_user_create(tenant_id, BasiqProfile(email="a@b.co", first_name="A"))
    assert made.tenant_id == tenant_id
    assert made.profile == BasiqProfile(email="a@b.co", first_name="A")
    assert made.created_at == made.updated_at
    assert await store.basiq_user_get(tenant_id, made.id) == made

    changed = await store.basiq_user_update(
        tenant_id, made.id, {"mobile": "+61400000000", "first_name": None, "last_name": "B"}
    )
    assert changed is not None
    assert changed.profile == BasiqProfile(email="a@b.co", mobile="+61400000000", last_name="B")
    assert changed.created_at == made.created_at
    assert changed.updated_at >= made.updated_at
    assert await store.basiq_user_get(tenant_id, made.id) == changed
    assert await store.job_list(tenant_id, JobFilter()) == [], "a user is no job"

    assert await store.basiq_user_delete(tenant_id, made.id) is True
    assert await store.basiq_user_get(tenant_id, made.id) is None
    assert await store.basiq_user_delete(tenant_id, made.id) is False
    assert await store.basiq_user_update(tenant_id, made.id, {"email": "c@d.co"}) is None


async def test_an_update_never_leaves_a_user_without_email_and_mobile(
    store: Store, tenant_id: str
) -> None:
    made = await store.basiq_user_create(tenant_id, BasiqProfile(email="a@b.co"))
    assert await store.basiq_user_update(tenant_id, made.id, {"email": None}) is None
    assert await store.basiq_user_update(tenant_id, made.id, {"mobile": None}) is not None
    swapped = await store.basiq_user_update(
        tenant_id, made.id, {"email": None, "mobile": "+61400000000"}
    )
    assert swapped is not None
    assert (swapped.profile.email, swapped.profile.mobile) == (None, "+61400000000")
    assert await store.basiq_user_get(tenant_id, made.id) == swapped


async def test_users_stay_in_their_tenant(
    store: Store, tenant_id: str, other_tenant_id: str
) -> None:
    made = await store.basiq_user_create(tenant_id, BasiqProfile(mobile="+61400000000"))
    assert await store.basiq_user_get(other_tenant_id, made.id) is None
    assert await store.basiq_user_update(other_tenant_id, made.id, {"email": "x@y.co"}) is None
    assert await store.basiq_user_delete(other_tenant_id, made.id) is False
    assert await store.basiq_user_get(tenant_id, made.id) == made


async def test_ids_that_name_nothing_find_nothing(store: Store, tenant_id: str) -> None:
    for user_id in (new_id(), "not-an-id", new_id().upper()):
        assert await store.basiq_user_get(tenant_id, user_id) is None
        assert await store.basiq_user_update(tenant_id, user_id, {"email": "x@y.co"}) is None
        assert await store.basiq_user_delete(tenant_id, user_id) is False
