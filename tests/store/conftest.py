"""Two tenants on the test's store: most cases act as one and check the other sees nothing."""

from __future__ import annotations

import pytest

from jobyard.store import Store


@pytest.fixture
async def tenant_id(store: Store) -> str:
    return (await store.tenant_create("acme")).id


@pytest.fixture
async def other_tenant_id(store: Store) -> str:
    return (await store.tenant_create("globex")).id
