"""Opening a store from a database URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobyard.domain.errors import InvalidInput
from jobyard.store import open_store


async def test_sqlite_url_makes_its_data_folder(tmp_path: Path) -> None:
    path = tmp_path / "data" / "nested" / "jobyard.db"
    store = open_store(f"sqlite:///{path}")
    try:
        assert store.dialect == "sqlite"
        await store.upgrade()
        assert path.exists()
    finally:
        await store.close()


@pytest.mark.parametrize(
    "url", ["postgresql://u@h/db", "postgres://u@h/db", "postgresql+asyncpg://u@h/db"]
)
async def test_postgres_urls_open_the_postgres_backend(url: str) -> None:
    store = open_store(url)  # connects lazily, so no server is needed to open it
    try:
        assert store.dialect == "postgresql"
    finally:
        await store.close()


@pytest.mark.parametrize("url", ["mysql://u@h/db", "", "/var/lib/jobyard.db"])
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput) as info:
        open_store(url)
    assert info.value.details == {"url": url}
