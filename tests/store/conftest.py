"""Two tenants on the test's store: most cases act as one and check the other sees nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jobyard.store import Store, open_store
from jobyard.store.sqlite import SqliteStore


@pytest.fixture
async def tenant_id(store: Store) -> str:
    return (await store.tenant_create("acme")).id


@pytest.fixture
async def other_tenant_id(store: Store) -> str:
    return (await store.tenant_create("globex")).id


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """A SQLite store of its own, for the tests of SQLite's statements of fixed text."""
    store = open_store(f"sqlite:///{tmp_path / 'jobyard.db'}")
    assert isinstance(store, SqliteStore)
    await store.upgrade()
    yield store
    await store.close()
